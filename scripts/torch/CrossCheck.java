import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.random.RandomGenerator;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.sampling.VelocityModel;
import org.mipflow.schedule.StageSchedule;

/**
 * The Java half of scripts/torch/crosscheck.py, run as a single-file program against the compiled
 * classes of udf (java -cp udf/target/classes[:DJL jars] CrossCheck.java MODE ...):
 *
 *   noise COUNT          RowNoise streams as raw bits: "L seed idhex longs..." and "G seed idhex gaussians...",
 *                        then COUNT gaussians of (7, "bulk") on one "B" line
 *   analytic FILE        Sampler with an analytic velocity field on the latents of FILE (lines: ids, shape,
 *                        float bits), one line of output float bits per mode
 *   djl DIR              Sampler with teacher.pt / student.pt of DIR loaded by DJL (libtorch of the build),
 *                        compared with DIR/expected.json; and the bad-*.pt files called once each
 */
public class CrossCheck {

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "noise" -> noise(Integer.parseInt(args[1]));
            case "analytic" -> analytic(Path.of(args[1]));
            case "djl" -> Djl.run(Path.of(args[1]));
            default -> throw new IllegalArgumentException("mode noise, analytic or djl");
        }
    }

    static void noise(int count) {
        long[] seeds = {7L, 0L, -1L, Long.MIN_VALUE, 20261126L};
        String[] ids = {"row-a", "row-b", "", "\u00e9t\u00e9/\u4e2d-\ud83d\ude00"};
        for (long seed : seeds) {
            for (String id : ids) {
                RandomGenerator l = RowNoise.forRow(seed, id);
                StringBuilder sb = new StringBuilder("L " + seed + " " + hex(id));
                for (int i = 0; i < 4; i++) {
                    sb.append(' ').append(Long.toHexString(l.nextLong()));
                }
                System.out.println(sb);
                RandomGenerator g = RowNoise.forRow(seed, id);
                sb = new StringBuilder("G " + seed + " " + hex(id));
                for (int i = 0; i < 10; i++) {
                    sb.append(' ').append(Long.toHexString(Double.doubleToRawLongBits(g.nextGaussian())));
                }
                System.out.println(sb);
            }
        }
        RandomGenerator g = RowNoise.forRow(7L, "bulk");
        StringBuilder sb = new StringBuilder("B");
        for (int i = 0; i < count; i++) {
            sb.append(' ').append(Long.toHexString(Double.doubleToRawLongBits(g.nextGaussian())));
        }
        System.out.println(sb);
    }

    static String hex(String s) {
        StringBuilder sb = new StringBuilder("u");
        for (byte b : s.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            sb.append(String.format("%02x", b & 0xff));
        }
        return sb.toString();
    }

    /** v = 0.5 x - t z' (teacher) or x - (1 - t) z' (student), z' = z nearest-resized, channel c of 3. */
    record Analytic(StageSchedule schedule, int latentChannels, int downsample) implements VelocityModel {
        @Override
        public boolean hasStudent() {
            return true;
        }

        @Override
        public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
                boolean student) {
            float tf = (float) t;
            float[] v = new float[x.length];
            int c = latentChannels;
            for (int r = 0; r < n; r++) {
                for (int p = 0; p < 3; p++) {
                    for (int y = 0; y < h; y++) {
                        for (int xx = 0; xx < w; xx++) {
                            int i = ((r * 3 + p) * h + y) * w + xx;
                            float zu = z[((r * c + p) * zh + y * zh / h) * zw + xx * zw / w];
                            v[i] = student ? x[i] - (1.0f - tf) * zu : 0.5f * x[i] - tf * zu;
                        }
                    }
                }
            }
            return v;
        }
    }

    static SamplerConfig config(String mode, int fullSteps, int[] stageSteps) {
        return new SamplerConfig(SamplingMode.parse(mode), fullSteps, stageSteps);
    }

    static RandomGenerator[] rngs(long seed, List<String> ids) {
        RandomGenerator[] r = new RandomGenerator[ids.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = RowNoise.forRow(seed, ids.get(i));
        }
        return r;
    }

    static void analytic(Path file) throws Exception {
        List<String> lines = Files.readAllLines(file);
        List<String> ids = List.of(lines.get(0).split(" "));
        String[] shape = lines.get(1).split(" ");
        int n = Integer.parseInt(shape[0]);
        int c = Integer.parseInt(shape[1]);
        int zh = Integer.parseInt(shape[2]);
        int zw = Integer.parseInt(shape[3]);
        long seed = Long.parseLong(shape[4]);
        int fullSteps = Integer.parseInt(shape[5]);
        int[] stageSteps = {Integer.parseInt(shape[6]), Integer.parseInt(shape[7]), Integer.parseInt(shape[8])};
        String[] bits = lines.get(2).split(" ");
        float[] z = new float[n * c * zh * zw];
        for (int i = 0; i < z.length; i++) {
            z[i] = Float.intBitsToFloat(Integer.parseUnsignedInt(bits[i], 16));
        }
        Analytic model = new Analytic(StageSchedule.DEFAULT, c, 8);
        for (String mode : new String[] {"full", "multiscale", "onestep"}) {
            Sampler s = new Sampler(model, config(mode, fullSteps, stageSteps));
            float[] img = s.decode(z, n, zh, zw, rngs(seed, ids));
            StringBuilder sb = new StringBuilder(mode);
            for (float f : img) {
                sb.append(' ').append(Integer.toHexString(Float.floatToRawIntBits(f)));
            }
            System.out.println(sb);
        }
    }

    static final class Djl {
        static void run(Path dir) throws Exception {
            JsonObject e = new Gson().fromJson(Files.readString(dir.resolve("expected.json")), JsonObject.class);
            List<String> ids = new java.util.ArrayList<>();
            e.getAsJsonArray("ids").forEach(x -> ids.add(x.getAsString()));
            JsonArray ls = e.getAsJsonArray("latentShape");
            int n = ls.get(0).getAsInt();
            int c = ls.get(1).getAsInt();
            int zh = ls.get(2).getAsInt();
            int zw = ls.get(3).getAsInt();
            float[] z = floats(e.getAsJsonArray("latents"));
            int[] stageSteps = new Gson().fromJson(e.get("stageSteps"), int[].class);
            int fullSteps = e.get("fullSteps").getAsInt();
            long seed = e.get("seed").getAsLong();
            try (ai.djl.ndarray.NDManager root = ai.djl.ndarray.NDManager.newBaseManager();
                    ai.djl.Model teacher = ai.djl.Model.newInstance("teacher", "PyTorch");
                    ai.djl.Model student = ai.djl.Model.newInstance("student", "PyTorch")) {
                System.out.println("engine " + ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
                teacher.load(dir, "teacher");
                student.load(dir, "student");
                boolean dt = !e.has("velocity") || e.get("velocity").getAsString().equals("dt");
                System.out.println("velocity convention: " + (dt ? "dx/dt, scaled by start - end per stage" : "dx/du"));
                TorchModel model = new TorchModel(teacher, student, c, dt);
                for (String mode : new String[] {"full", "multiscale", "onestep"}) {
                    Sampler s = new Sampler(model, config(mode, fullSteps, stageSteps));
                    float[] img = s.decode(z, n, zh, zw, rngs(seed, ids));
                    float[] want = floats(e.getAsJsonObject("modes").getAsJsonObject(mode).getAsJsonArray("images"));
                    double maxAbs = 0;
                    int same = 0;
                    for (int i = 0; i < img.length; i++) {
                        maxAbs = Math.max(maxAbs, Math.abs(img[i] - want[i]));
                        same += Float.floatToRawIntBits(img[i]) == Float.floatToRawIntBits(want[i]) ? 1 : 0;
                    }
                    System.out.printf("mode %s: %d values, max |java - python| = %.3g, bit-identical %d%n",
                            mode, img.length, maxAbs, same);
                }
                for (String bad : new String[] {"bad-arity", "bad-shape", "bad-dtype"}) {
                    try (ai.djl.Model m = ai.djl.Model.newInstance(bad, "PyTorch")) {
                        m.load(dir, bad);
                        TorchModel tm = new TorchModel(m, null, c, true);
                        try {
                            ai.djl.ndarray.NDList out = tm.call(m, new float[n * 3 * 64], n, 8, 8,
                                    new float[n * c * zh * zw], zh, zw, 0.5);
                            System.out.printf("%s: forward returned %s %s%n", bad,
                                    out.singletonOrThrow().getShape(), out.singletonOrThrow().getDataType());
                            out.close();
                        } catch (Exception ex) {
                            String msg = String.valueOf(ex.getMessage());
                            System.out.printf("%s: forward threw %s: %s%n", bad, ex.getClass().getSimpleName(),
                                    msg.lines().findFirst().orElse(""));
                        }
                    }
                }
            }
        }

        static float[] floats(JsonArray a) {
            float[] f = new float[a.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) a.get(i).getAsDouble();
            }
            return f;
        }
    }

    /**
     * The TorchScript contract: forward(x [n,3,h,w] f32, t [n] f32, z [n,C,zh,zw] f32) -> [n,3,h,w] f32, the
     * velocity dx/dt; returned to the Sampler as dx/du of the stage, (float) ((start - end) * v) in pyramid
     * stage k (when dt) and v itself in the full-resolution flow.
     */
    static final class TorchModel implements VelocityModel {
        private final ai.djl.Model teacher;
        private final ai.djl.Model student;
        private final int channels;
        private final boolean dt;

        TorchModel(ai.djl.Model teacher, ai.djl.Model student, int channels, boolean dt) {
            this.teacher = teacher;
            this.student = student;
            this.channels = channels;
            this.dt = dt;
        }

        @Override
        public StageSchedule schedule() {
            return StageSchedule.DEFAULT;
        }

        @Override
        public int latentChannels() {
            return channels;
        }

        @Override
        public int downsample() {
            return 8;
        }

        @Override
        public boolean hasStudent() {
            return student != null;
        }

        ai.djl.ndarray.NDList call(ai.djl.Model m, float[] x, int n, int h, int w, float[] z, int zh, int zw,
                double t) {
            ai.djl.ndarray.NDManager mm = m.getNDManager().newSubManager();
            float[] tt = new float[n];
            java.util.Arrays.fill(tt, (float) t);
            ai.djl.ndarray.NDList in = new ai.djl.ndarray.NDList(
                    mm.create(x, new ai.djl.ndarray.types.Shape(n, 3, h, w)),
                    mm.create(tt, new ai.djl.ndarray.types.Shape(n)),
                    mm.create(z, new ai.djl.ndarray.types.Shape(n, channels, zh, zw)));
            ai.djl.ndarray.NDList out = m.getBlock().forward(new ai.djl.training.ParameterStore(mm, false), in, false);
            out.attach(mm);
            return out;
        }

        @Override
        public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
                boolean useStudent) {
            ai.djl.ndarray.NDList out = call(useStudent ? student : teacher, x, n, h, w, z, zh, zw, t);
            float[] v = out.singletonOrThrow().toFloatArray();
            out.singletonOrThrow().getManager().close();
            StageSchedule s = schedule();
            if (dt && stageType < s.stages()) {
                double span = s.start(stageType) - s.end(stageType);
                for (int j = 0; j < v.length; j++) {
                    v[j] = (float) (span * v[j]);
                }
            }
            return v;
        }
    }
}
