package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mipflow.io.LatentSpec;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/**
 * A token decoder of the method's authors' kind (joint attention over latent tokens and image
 * patches, resolution-dependent positions, a learned null latent) with a one-step student (the
 * same network with other weights and its own null latent, as their ADD student), stepped as they
 * train it (time windows, stage-local velocity, their grid, positive renoise, guidance).
 * Mipflow's decodes are compared with the reference sampler's (scripts/torch/reference_sampler.py:
 * a loop written in this repository to the semantics of the authors' decode loop, with Mipflow's
 * noise, and checked against their code outside the repository), for K = 3 and 4: multiscale
 * (the teacher) with N = 1 and 10 steps per stage, onestep (the student), each at W = 1 and 2.
 */
class TokenDecoderTest {
    static final Path FIXTURE = Path.of("src/test/resources/token-decoder");
    /**
     * Max |Mipflow - reference| allowed on a decode's floats (values of about [-5, 5]). Measured
     * here: at most 2.6e-6 over every decode of both fixtures (2.6e-6 for multiscale, k4 N = 1
     * W = 2, and for onestep, k3 W = 2). The Java sampler computes the jump and the Euler step in
     * double and rounds to float once, the reference in float32 op by op, and libtorch 2.5 (DJL)
     * and torch 1.13 (the reference) differ in the last bits of their kernels.
     */
    static final double TOLERANCE = 2e-5;

    static RandomGenerator[] rngs(JsonObject e, int n) {
        RandomGenerator[] rngs = new RandomGenerator[n];
        for (int i = 0; i < n; i++) {
            rngs[i] = RowNoise.forRow(e.get("seed").getAsLong(), e.getAsJsonArray("ids").get(i).getAsString());
        }
        return rngs;
    }

    static SamplerConfig config(JsonObject decode, int stages) {
        int[] perStage = new int[stages];
        Arrays.fill(perStage, decode.get("stepsPerStage").getAsInt());
        return new SamplerConfig(SamplingMode.parse(decode.get("mode").getAsString()), 50, perStage,
                decode.get("cfgScale").getAsDouble());
    }

    static double maxDiff(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - got[i]));
        }
        return max;
    }

    @ParameterizedTest
    @ValueSource(strings = {"k3", "k4"})
    void decodesEqualTheReferenceSampler(String dir) throws IOException {
        JsonObject e = JsonParser.parseString(Files.readString(FIXTURE.resolve(dir).resolve("expected.json")))
                .getAsJsonObject();
        try (TorchScriptModel model = TorchScriptModel.load(FIXTURE.resolve(dir))) {
            LatentSpec.Tokens spec = (LatentSpec.Tokens) model.latent();
            JsonArray shape = e.getAsJsonArray("contextShape");
            int n = shape.get(0).getAsInt();
            assertEquals(spec.tokens(), shape.get(1).getAsInt());
            assertEquals(spec.dim(), shape.get(2).getAsInt());
            float[] z = floats(e.getAsJsonArray("contexts"));
            int k = model.schedule().stages();
            java.util.Set<String> modes = new java.util.TreeSet<>();
            for (var d : e.getAsJsonArray("decodes")) {
                JsonObject o = d.getAsJsonObject();
                SamplerConfig cfg = config(o, k);
                String what = dir + " " + o.get("mode").getAsString() + " N=" + o.get("stepsPerStage").getAsInt()
                        + " W=" + cfg.cfgScale();
                modes.add(cfg.mode().label());
                Sampler sampler = new Sampler(model, cfg);
                // onestep, being cheap, also with one row per call (its guided steps then call twice)
                for (int rowsPerCall : cfg.mode() == SamplingMode.ONESTEP ? new int[] {1, 2} : new int[] {2}) {
                    double max = maxDiff(floats(o.getAsJsonArray("images")),
                            sampler.decode(z, n, spec.tokens(), spec.dim(), rngs(e, n), rowsPerCall));
                    System.out.printf("token decoder %s, %d row(s) per call: max |mipflow - reference| = %.3g%n", what,
                            rowsPerCall, max);
                    assertTrue(max < TOLERANCE, what + ": max |mipflow - reference| = " + max);
                }
                // the reference counted what it sent its network
                assertEquals(o.get("forwardPassesPerImage").getAsInt(), sampler.forwardPasses(), what + ": passes");
                assertEquals(o.get("networkRowsPerImage").getAsInt(), sampler.networkRowsPerImage(), what + ": rows");
            }
            assertEquals(java.util.Set.of("multiscale", "onestep"), modes);
        }
    }

    /**
     * The decoder with its own guidance replaced, counting what the sampler sends it: rows, and
     * passes (a pass: the calls at one network time of one stage).
     */
    static final class Counting implements org.mipflow.sampling.VelocityModel {
        final TorchScriptModel inner;
        final org.mipflow.sampling.Guidance guidance;
        int rows;
        int passes;
        private String last = "";

        Counting(TorchScriptModel inner, org.mipflow.sampling.Guidance guidance) {
            this.inner = inner;
            this.guidance = guidance;
        }

        @Override
        public org.mipflow.schedule.StageSchedule schedule() {
            return inner.schedule();
        }

        @Override
        public org.mipflow.schedule.ScheduleConvention convention() {
            return inner.convention();
        }

        @Override
        public org.mipflow.sampling.Guidance guidance() {
            return guidance;
        }

        @Override
        public LatentSpec latent() {
            return inner.latent();
        }

        @Override
        public java.util.Set<SamplingMode> modes() {
            return inner.modes();
        }

        @Override
        public int latentChannels() {
            return inner.latentChannels();
        }

        @Override
        public int downsample() {
            return inner.downsample();
        }

        @Override
        public boolean hasStudent() {
            return inner.hasStudent();
        }

        @Override
        public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
                boolean student) {
            rows += n;
            String at = stageType + "@" + t;
            if (!at.equals(last)) {
                passes++;
                last = at;
            }
            return inner.velocity(x, n, h, w, z, zh, zw, t, stageType, student);
        }
    }

    /**
     * Forward passes and network rows per image, as the sampler and the driver (DecoderFacts) count
     * them, equal what the network is sent: without guidance, with guidance over every step, and
     * with an interval that covers only some steps (tau <= 0.6: K = 3, N = 3 guides 5 of 9
     * steps, onestep 1 of 3). One row per call, so no call is padded.
     */
    @org.junit.jupiter.api.Test
    void passesAndRowsPerImageCountWhatTheNetworkIsSent() throws IOException {
        JsonObject e = JsonParser.parseString(Files.readString(FIXTURE.resolve("k3/expected.json"))).getAsJsonObject();
        float[] z = floats(e.getAsJsonArray("contexts"));
        DecoderFacts facts = DecoderFacts.read(FIXTURE.resolve("k3"));
        try (TorchScriptModel model = TorchScriptModel.load(FIXTURE.resolve("k3"))) {
            org.mipflow.sampling.Guidance g = model.guidance();
            var partial = new org.mipflow.sampling.Guidance(g.nullCondition(), g.studentNullCondition(), g.scale(),
                    0.0, 0.6);
            int[] three = {3, 3, 3};
            record Case(SamplerConfig cfg, org.mipflow.sampling.Guidance guidance, int passes, int rows) {}
            List<Case> cases = List.of(
                    new Case(new SamplerConfig(SamplingMode.MULTISCALE, 50, three, 1.0), g, 9, 9),
                    new Case(new SamplerConfig(SamplingMode.MULTISCALE, 50, three, 2.0), g, 9, 18),
                    new Case(new SamplerConfig(SamplingMode.MULTISCALE, 50, three, 2.0), partial, 9, 14),
                    new Case(new SamplerConfig(SamplingMode.ONESTEP, 50, three, 1.0), g, 3, 3),
                    new Case(new SamplerConfig(SamplingMode.ONESTEP, 50, three, 2.0), g, 3, 6),
                    new Case(new SamplerConfig(SamplingMode.ONESTEP, 50, three, 2.0), partial, 3, 4));
            for (Case c : cases) {
                Counting counting = new Counting(model, c.guidance());
                Sampler sampler = new Sampler(counting, c.cfg());
                sampler.decode(z, 2, 16, 8, rngs(e, 2), 1);
                String what = c.cfg().mode().label() + " W=" + c.cfg().cfgScale() + " [" + c.guidance().low() + ", "
                        + c.guidance().high() + "]";
                assertEquals(c.passes(), counting.passes, what + ": passes sent");
                assertEquals(2 * c.rows(), counting.rows, what + ": rows sent for 2 images");
                assertEquals(c.passes(), sampler.forwardPasses(), what);
                assertEquals(c.rows(), sampler.networkRowsPerImage(), what);
                if (c.guidance() == g) {
                    assertEquals(c.passes(), facts.forwardPasses(c.cfg()), what + ": the driver's count");
                    assertEquals(c.rows(), facts.networkRowsPerImage(c.cfg()), what + ": the driver's count");
                }
            }
        }
    }

    /**
     * The student is guided with its own null latent, as the authors' loop guides a network with
     * its own context_null: with the teacher's instead, the reference is missed by far more than
     * the tolerance.
     */
    @org.junit.jupiter.api.Test
    void theStudentIsGuidedWithItsOwnNullLatent() throws IOException {
        JsonObject e = JsonParser.parseString(Files.readString(FIXTURE.resolve("k3/expected.json"))).getAsJsonObject();
        float[] z = floats(e.getAsJsonArray("contexts"));
        try (TorchScriptModel model = TorchScriptModel.load(FIXTURE.resolve("k3"))) {
            org.mipflow.sampling.Guidance g = model.guidance();
            assertTrue(maxDiff(g.nullCondition(), g.studentNullCondition()) > 0.1, "the fixture's nulls differ");
            for (var d : e.getAsJsonArray("decodes")) {
                JsonObject o = d.getAsJsonObject();
                if (!o.get("mode").getAsString().equals("onestep") || o.get("cfgScale").getAsDouble() != 2.0) {
                    continue;
                }
                var teachers = new org.mipflow.sampling.Guidance(g.nullCondition(), g.scale(), g.low(), g.high());
                float[] wrong = new Sampler(new Counting(model, teachers), config(o, 3)).decode(z, 2, 16, 8, rngs(e, 2),
                        2);
                double off = maxDiff(floats(o.getAsJsonArray("images")), wrong);
                assertTrue(off > 100 * TOLERANCE, "with the teacher's null latent: " + off);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"k3"})
    void modesItWasNotTrainedForAndGuidanceWithoutANullConditionAreRefused(String dir) {
        try (TorchScriptModel model = TorchScriptModel.load(FIXTURE.resolve(dir))) {
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> new Sampler(model, SamplerConfig.of(SamplingMode.FULL, 3)));
            assertTrue(full.getMessage().contains("not one the model was trained for"), full.getMessage());
            assertEquals(2.0, new Sampler(model, SamplerConfig.of(SamplingMode.MULTISCALE, 3)).cfgScale(),
                    "the model's default scale");
        }
        try (TorchScriptModel grid = TorchScriptModel.load(Path.of("src/test/resources/torchscript"))) {
            IllegalArgumentException cfg = assertThrows(IllegalArgumentException.class, () -> new Sampler(grid,
                    SamplerConfig.of(SamplingMode.MULTISCALE, 3).withCfgScale(2)));
            assertTrue(cfg.getMessage().contains("null condition"), cfg.getMessage());
            assertEquals(1.0, new Sampler(grid, SamplerConfig.of(SamplingMode.MULTISCALE, 3)).cfgScale());
        }
    }

    /** A copy of the k3 fixture with one edit to its model.json; the error the load gives. */
    static String refusal(Path tmp, java.util.function.Consumer<JsonObject> edit) throws IOException {
        Path dir = edited(tmp, edit);
        return assertThrows(ModelFormatException.class, () -> TorchScriptManifest.read(dir)).getMessage();
    }

    @org.junit.jupiter.api.Test
    void unknownOrContradictorySettingsAreRefusedNamingTheField(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws IOException {
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("velocty", "global"))
                .contains("unknown field schedule.velocty"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("grid", "cosine"))
                .contains("schedule.grid 'cosine' is not one of uniform, authors"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("networkTime", "physical"))
                .contains("schedule.timeWindows is given but networkTime is physical"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").remove("timeWindows"))
                .contains("schedule.timeWindows needs one [tau_max, tau_min] per stage"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("imageConversion", "floor(x)"))
                .contains("schedule.imageConversion"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("latent").addProperty("tokens", 17))
                .contains("nullContext context_null.bin has 512 bytes"));
        assertTrue(refusal(tmp, m -> m.addProperty("guidanceScale", 2)).contains("unknown field guidanceScale"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").add("ends",
                JsonParser.parseString("[0.667, 0.9, 0.0]"))).contains("schedule.nominalStarts/ends"));
    }

    /** A copy of the k3 fixture with one edit to its model.json. */
    static Path edited(Path tmp, java.util.function.Consumer<JsonObject> edit) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "edited");
        try (var files = Files.list(FIXTURE.resolve("k3"))) {
            for (Path f : files.filter(f -> !f.getFileName().toString().endsWith(".json")).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        JsonObject m = JsonParser.parseString(Files.readString(FIXTURE.resolve("k3/model.json"))).getAsJsonObject();
        edit.accept(m);
        Files.writeString(dir.resolve("model.json"), m.toString());
        return dir;
    }

    /**
     * A window-trained decoder runs full only where its model.json states the full flow's time
     * convention: without "modes", full is left out and refused naming the modes it has; declared
     * without the convention, the model is refused at load. auto is the fastest declared mode.
     */
    @org.junit.jupiter.api.Test
    void fullNeedsAFullFlowTimeConventionAndAutoIsTheFastestDeclaredMode(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws IOException {
        SamplerConfig full = SamplerConfig.of(SamplingMode.FULL, 3);
        DecoderFacts noModes = DecoderFacts.read(edited(tmp, m -> m.remove("modes")));
        assertEquals(java.util.Set.of(SamplingMode.MULTISCALE, SamplingMode.ONESTEP), noModes.modes());
        String refused = assertThrows(IllegalArgumentException.class, () -> noModes.check("m", full)).getMessage();
        assertTrue(refused.contains("model m was not trained for mode full (it was trained on per-stage time windows, "
                + "and its model.json states no schedule.fullFlowTime); its modes: [multiscale, onestep]"), refused);
        assertEquals(SamplingMode.ONESTEP, SamplingMode.auto(noModes.modes()));

        DecoderFacts stated = DecoderFacts.read(edited(tmp, m -> {
            m.remove("modes");
            m.getAsJsonObject("schedule").addProperty("fullFlowTime", "physical");
        }));
        assertEquals(java.util.EnumSet.allOf(SamplingMode.class), stated.modes());
        assertEquals(full, stated.check("m", full));

        String declared = refusal(tmp, m -> m.add("modes", JsonParser.parseString("[\"full\", \"multiscale\"]")));
        assertTrue(declared.contains("modes include full, but the decoder was trained on per-stage time windows"),
                declared);
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("fullFlowTime", "windows"))
                .contains("schedule.fullFlowTime 'windows' is not supported"));
        assertTrue(refusal(tmp, m -> m.add("modes", new JsonArray())).contains("modes names no mode"));

        DecoderFacts onlyFull = DecoderFacts.read(edited(tmp, m -> {
            m.add("modes", JsonParser.parseString("[\"full\"]"));
            m.getAsJsonObject("schedule").addProperty("fullFlowTime", "physical");
        }));
        assertEquals(SamplingMode.FULL, SamplingMode.auto(onlyFull.modes()), "a model that declares only full");
        assertEquals(SamplingMode.FULL, SamplingMode.parse("auto", onlyFull.modes()));
        DecoderFacts noOnestep = DecoderFacts.read(edited(tmp, m -> m.add("modes",
                JsonParser.parseString("[\"multiscale\"]"))));
        assertTrue(noOnestep.hasStudent());
        assertEquals(SamplingMode.MULTISCALE, SamplingMode.auto(noOnestep.modes()), "a student it does not declare");
        String onestep = assertThrows(IllegalArgumentException.class,
                () -> noOnestep.check("m", SamplerConfig.of(SamplingMode.ONESTEP, 3))).getMessage();
        assertTrue(onestep.endsWith("its modes: [multiscale]"), onestep);
        assertTrue(refusal(tmp, m -> m.remove("student")).contains("studentNullContext needs a student"));
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.get(i).getAsFloat();
        }
        return f;
    }
}
