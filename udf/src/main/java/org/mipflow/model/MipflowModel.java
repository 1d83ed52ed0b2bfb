package org.mipflow.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import com.google.gson.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mipflow.schedule.StageSchedule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The project's native model: tokenizer encoder, teacher (the multi-stage flow decoder) and
 * optionally the one-step student, held in one DJL manager on one device. The teacher's file keeps
 * its historic name, {@code decoder.params}, so shipped models' recorded checksums stay valid.
 */
public final class MipflowModel implements DecoderModel {
    private static final Logger LOG = LoggerFactory.getLogger(MipflowModel.class);
    /** libtorch's intra-op threads in this JVM; 0 until the engine is started (guarded by the class). */
    private static int engineThreads;
    /** Counts asked for after the engine started, logged once each. */
    private static final java.util.Set<Integer> IGNORED_THREADS = new java.util.HashSet<>();
    public static final String ENCODER_FILE = "encoder.params";
    public static final String TEACHER_FILE = "decoder.params";
    public static final String STUDENT_FILE = "student.params";

    private final ModelConfig cfg;
    private final NDManager manager;
    private final EncoderNet encoder;
    private final FlowUNet teacher;
    private FlowUNet student;
    private final ParameterStore store;
    private NumericPath numerics = NumericPath.NATIVE;
    private FlowUNetTwin teacherTwin;
    private FlowUNetTwin studentTwin;

    private MipflowModel(ModelConfig cfg, long seed, Device device) {
        this.cfg = cfg;
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        this.encoder = new EncoderNet(cfg, seed);
        this.teacher = new FlowUNet(cfg, seed + 1);
        int side = cfg.sideMultiple();
        encoder.initialize(manager, DataType.FLOAT32, new Shape(1, 3, side, side));
        teacher.initialize(manager, DataType.FLOAT32, decoderInputShapes(side));
        this.store = new ParameterStore(manager, false);
    }

    private Shape[] decoderInputShapes(int side) {
        int zs = side / cfg.downsample();
        return new Shape[] {
            new Shape(1, 3, side, side), new Shape(1, cfg.timeFeatureDim()), new Shape(1, cfg.latentChannels(), zs, zs)
        };
    }

    /** A freshly initialised model; the seed fixes every initial weight. */
    public static MipflowModel create(ModelConfig cfg, long seed) {
        return new MipflowModel(cfg, seed, Device.cpu());
    }

    /**
     * A model of {@code cfg} that computes what {@code from} computes: every parameter of
     * {@code from}'s encoder and teacher copied by name, and the parameters it lacks (the encoder
     * blocks and the decoder's latent entries {@code cfg} adds, whose last convolution starts at
     * zero, so each adds nothing yet) at their seeded start. Added latent channels are new outputs
     * of the encoder's last convolution, at their seeded start, and new inputs of every decoder
     * convolution that reads the latent, at zero ({@link GrownTensor}). {@code cfg} may differ from
     * {@code from}'s architecture only by more latent channels, encoder blocks and latent levels
     * ({@link ModelConfig#grows}). The student is not carried over.
     */
    public static MipflowModel grownFrom(MipflowModel from, ModelConfig cfg, long seed) {
        ModelConfig was = from.config();
        if (!cfg.grows(was)) {
            throw new IllegalArgumentException("a model can only be grown by latent channels (here from "
                    + was.latentChannels() + " to " + cfg.latentChannels() + "), encoder blocks (here from "
                    + was.encoderBlocks() + " to " + cfg.encoderBlocks() + " per level) and latent levels (here from "
                    + was.latentLevels() + " to " + cfg.latentLevels() + "), the rest of its architecture unchanged");
        }
        MipflowModel grown = create(cfg, seed);
        try {
            copyByName(from.encoder, grown.encoder);
            copyByName(from.teacher, grown.teacher);
        } catch (RuntimeException e) {
            grown.close();
            throw e;
        }
        return grown;
    }

    private static void copyByName(NetBlock src, NetBlock dst) {
        Map<String, Parameter> byName = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : dst.getParameters()) {
            byName.put(p.getValue().getName(), p.getValue());
        }
        for (Pair<String, Parameter> p : src.getParameters()) {
            Parameter s = p.getValue();
            Parameter d = byName.get(s.getName());
            if (d == null) {
                throw new IllegalArgumentException("parameter " + s.getName() + " has no counterpart in the grown model");
            }
            Shape from = s.getArray().getShape();
            Shape to = d.getArray().getShape();
            try {
                d.getArray().set(from.equals(to)
                        ? s.getArray().toFloatArray()
                        : GrownTensor.embed(s.getArray().toFloatArray(), from.getShape(), d.getArray().toFloatArray(),
                                to.getShape()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("parameter " + s.getName() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Loads a model directory after checking every file against model.json. */
    public static MipflowModel load(Path dir) {
        return load(dir, Device.cpu());
    }

    public static MipflowModel load(Path dir, Device device) {
        return load(dir, device, NumericPath.NATIVE);
    }

    /**
     * Loads the model and sets its decoders up to compute in {@code numerics}; anything but fp32/nchw
     * runs the loaded weights through the TorchScript twin ({@link FlowUNetTwin}).
     */
    public static MipflowModel load(Path dir, Device device, NumericPath numerics) {
        ModelManifest m = ModelManifest.read(dir);
        if (!ModelManifest.NATIVE.equals(m.format())) {
            throw new ModelFormatException(
                    "model " + dir + " has format '" + m.format() + "'; this loader reads '" + ModelManifest.NATIVE + "'");
        }
        for (String f : List.of(ENCODER_FILE, TEACHER_FILE)) {
            if (!m.has(f)) {
                throw new ModelFormatException("model " + dir + " lists no " + f + " in model.json");
            }
        }
        MipflowModel model = new MipflowModel(m.config(), 0, device);
        try {
            model.readInto(model.encoder, dir.resolve(ENCODER_FILE));
            model.readInto(model.teacher, dir.resolve(TEACHER_FILE));
            if (m.has(STUDENT_FILE)) {
                model.student = model.newDecoderCopy();
                model.readInto(model.student, dir.resolve(STUDENT_FILE));
            }
        } catch (IOException | RuntimeException e) {
            model.close();
            throw new ModelFormatException("cannot load model " + dir + ": " + e.getMessage(), e);
        }
        try {
            model.useNumerics(numerics, device);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    private void useNumerics(NumericPath path, Device device) {
        if (!path.isNative()) {
            teacherTwin = FlowUNetTwin.of(teacher, path, device, manager);
            if (student != null) {
                studentTwin = FlowUNetTwin.of(student, path, device, manager);
            }
        }
        numerics = path;
    }

    @Override
    public long bytesPerRow(int h, int w) {
        return RowBytes.nativeNetwork(cfg.decoderWidths()[0], numerics, h, w);
    }

    @Override
    public Device device() {
        return manager.getDevice();
    }

    @Override
    public String numericsLabel() {
        return numerics.label();
    }

    /** What the decoders compute in (fp32/nchw unless loaded with another {@link NumericPath}). */
    public NumericPath numerics() {
        return numerics;
    }

    private void readInto(NetBlock block, Path file) throws IOException {
        // DJL takes each parameter's shape from the file, so compare with the architecture's.
        List<Shape> expected = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            expected.add(p.getValue().getArray().getShape());
        }
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            block.loadParameters(manager, in);
        } catch (ai.djl.MalformedModelException e) {
            throw new ModelFormatException(file + " does not hold this architecture's parameters: " + e.getMessage(), e);
        }
        var params = block.getParameters();
        for (int i = 0; i < params.size(); i++) {
            Shape actual = params.get(i).getValue().getArray().getShape();
            if (!actual.equals(expected.get(i))) {
                throw new ModelFormatException(file + ": parameter " + params.get(i).getKey() + " has shape " + actual
                        + ", the architecture in model.json needs " + expected.get(i));
            }
        }
    }

    private FlowUNet newDecoderCopy() {
        FlowUNet s = new FlowUNet(cfg, 0);
        s.initialize(manager, DataType.FLOAT32, decoderInputShapes(cfg.sideMultiple()));
        return s;
    }

    /**
     * Forgets the student, so that {@link #save} writes none: a teacher trained further no longer
     * matches it. Its arrays stay in the model's manager until {@link #close}.
     */
    public void dropStudent() {
        student = null;
        studentTwin = null;
    }

    /** Starts (or restarts) the student as a copy of the teacher. */
    public FlowUNet initStudentFromTeacher() {
        FlowUNet s = newDecoderCopy();
        var src = teacher.getParameters();
        var dst = s.getParameters();
        for (int i = 0; i < src.size(); i++) {
            dst.get(i).getValue().getArray().set(src.get(i).getValue().getArray().toFloatArray());
        }
        student = s;
        return s;
    }

    /** Writes parameter files and model.json (with their checksums) into {@code dir}. */
    public void save(Path dir, JsonObject training) throws IOException {
        Files.createDirectories(dir);
        Map<String, String> sums = new LinkedHashMap<>();
        write(encoder, dir.resolve(ENCODER_FILE), sums);
        write(teacher, dir.resolve(TEACHER_FILE), sums);
        if (student != null) {
            write(student, dir.resolve(STUDENT_FILE), sums);
        }
        new ModelManifest(ModelManifest.NATIVE, cfg, sums, training).write(dir);
    }

    private static void write(NetBlock block, Path file, Map<String, String> sums) throws IOException {
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            block.saveParameters(out);
        }
        sums.put(file.getFileName().toString(), Checksums.sha256(file));
    }

    public ModelConfig config() {
        return cfg;
    }

    public EncoderNet encoder() {
        return encoder;
    }

    public FlowUNet teacher() {
        return teacher;
    }

    public FlowUNet student() {
        return student;
    }

    public NDManager manager() {
        return manager;
    }

    public ParameterStore parameterStore() {
        return store;
    }

    /** All parameters of the given blocks, in save order. */
    public static List<Parameter> parameters(NetBlock... blocks) {
        List<Parameter> out = new ArrayList<>();
        for (NetBlock b : blocks) {
            for (Pair<String, Parameter> p : b.getParameters()) {
                out.add(p.getValue());
            }
        }
        return out;
    }

    public long parameterCount(NetBlock block) {
        long n = 0;
        for (Pair<String, Parameter> p : block.getParameters()) {
            n += p.getValue().getArray().size();
        }
        return n;
    }

    /** Encodes images [n,3,h,w] in [-1,1] into latents [n,C,h/8,w/8]. */
    public float[] encode(float[] images, int n, int h, int w) {
        checkSide(h, w, cfg.downsample());
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.create(images, new Shape(n, 3, h, w));
            return encoder.forward(store, new NDList(x), false).singletonOrThrow().toFloatArray();
        }
    }

    @Override
    public float[] velocity(
            float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType, boolean useStudent) {
        FlowUNet net = useStudent ? student : teacher;
        if (net == null) {
            throw new IllegalStateException("this model has no one-step student; train one with 'mipflow distill'");
        }
        checkSide(h, w, 4);
        try (NDManager m = manager.newSubManager()) {
            NDArray xs = m.create(x, new Shape(n, 3, h, w));
            NDArray tf = m.create(TimeFeatures.batch(cfg, n, t, stageType), new Shape(n, cfg.timeFeatureDim()));
            NDArray zs = m.create(z, new Shape(n, cfg.latentChannels(), zh, zw));
            FlowUNetTwin twin = useStudent ? studentTwin : teacherTwin;
            if (twin != null) {
                return twin.forward(xs, tf, zs).toFloatArray();
            }
            return net.forward(store, new NDList(xs, tf, zs), false).singletonOrThrow().toFloatArray();
        }
    }

    private static void checkSide(int h, int w, int multiple) {
        if (h % multiple != 0 || w % multiple != 0) {
            throw new IllegalArgumentException("image " + h + "x" + w + " is not a multiple of " + multiple);
        }
    }

    @Override
    public StageSchedule schedule() {
        return cfg.schedule();
    }

    @Override
    public int latentChannels() {
        return cfg.latentChannels();
    }

    @Override
    public int downsample() {
        return cfg.downsample();
    }

    @Override
    public boolean hasStudent() {
        return student != null;
    }

    /**
     * Fixes libtorch's intra-op thread count for this JVM and starts the engine. DJL's PyTorch
     * engine reads {@code ai.djl.pytorch.num_threads} and {@code num_interop_threads} once, when it
     * starts, and never again, so only the first call of a JVM can act: a later call with the same
     * count does nothing, and one with another count is logged (once per count) and ignored (the count is
     * JVM-global, not per model or task). {@link #setThreads} changes it at run time on purpose.
     *
     * @return the count in force for this JVM
     */
    public static synchronized int configureThreads(int intraOp) {
        if (engineThreads == 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(intraOp));
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            System.setProperty("ai.djl.offline", "true");
            Engine.getEngine("PyTorch");
            engineThreads = intraOp;
        } else if (intraOp != engineThreads && IGNORED_THREADS.add(intraOp)) {
            LOG.info("libtorch already runs {} intra-op thread(s) in this JVM; the request for {} has no effect"
                    + " (the count is fixed when the engine starts)", engineThreads, intraOp);
        }
        return engineThreads;
    }

    /**
     * Changes libtorch's intra-op thread count of this JVM at run time (it is global, not per
     * model): for measurements that alternate two settings in one process.
     */
    public static synchronized void setThreads(int intraOp) {
        configureThreads(intraOp);
        ai.djl.pytorch.jni.JniUtils.setNumThreads(intraOp);
        engineThreads = intraOp;
    }

    @Override
    public void close() {
        for (FlowUNetTwin t : new FlowUNetTwin[] {teacherTwin, studentTwin}) {
            if (t != null) {
                t.close();
            }
        }
        manager.close();
    }
}
