package org.mipflow.jobs.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.model.Checksums;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.model.ModelManifest;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.StageSchedule;

/**
 * Trains the encoder and the flow decoder jointly with the multi-stage flow-matching loss
 * (docs/METHOD.md section 4): each step's loss is the sum over stage types of the velocity MSE.
 */
public final class TeacherTrainer implements TrainingLoop.Objective<StageBatch> {
    private final TrainConfig tc;
    private final PrintStream log;
    /** The --init model's model.json, read (and its checksums verified) once per run. */
    private ModelManifest initManifest;

    public TeacherTrainer(TrainConfig tc, PrintStream log) {
        this.tc = tc;
        this.log = log;
    }

    public ModelConfig modelConfig() {
        ModelConfig d = ModelConfig.DEFAULT;
        return new ModelConfig(latentChannels(), d.downsample(), d.encoderWidth(), encoderBlocks(), decoderWidths(),
                latentLevels(), d.timeFrequencies(), d.embedDim(), new StageSchedule(tc.stages(), d.schedule().gamma()));
    }

    /** Channels of the latent: as asked, else the --init model's, else the default's. */
    int latentChannels() {
        return askedOrStart(tc.latentChannels(), ModelConfig::latentChannels);
    }

    /** Residual blocks per encoder level: as asked, else the --init model's, else the default's. */
    int encoderBlocks() {
        return askedOrStart(tc.encoderBlocks(), ModelConfig::encoderBlocks);
    }

    /** Decoder levels the latent enters: as asked, else the --init model's, else the default's. */
    int latentLevels() {
        return askedOrStart(tc.latentLevels(), ModelConfig::latentLevels);
    }

    /** Channels of the decoder's levels: as asked, else the --init model's, else the default's. */
    int[] decoderWidths() {
        return askedOrStart(tc.decoderWidths(), ModelConfig::decoderWidths);
    }

    /** An architecture setting: the option when given, else what the run starts from has. */
    private <T> T askedOrStart(T asked, Function<ModelConfig, T> field) {
        if (asked != null) {
            return asked;
        }
        return field.apply(tc.init() == null ? ModelConfig.DEFAULT : initManifest().config());
    }

    public void run(String commandLine) throws Exception {
        new TrainingLoop(tc.run(), log).run(this, commandLine);
    }

    @Override
    public String checkpointName() {
        return "checkpoint";
    }

    /** The files of a saved model (MipflowModel.save). */
    static final String MODEL_FILES = "model\\.json|(encoder|decoder|student)\\.params";

    @Override
    public String command() {
        return "train";
    }

    @Override
    public OutputDir.Layout layout() {
        return OutputDir.Layout.of(MODEL_FILES + "|checkpoint(\\.tmp|\\.old)?", "model.json, *.params, checkpoint/")
                .withResume();
    }

    @Override
    public List<Path> reads() {
        // The --init model is read again on --resume (its record), so the run must not write over it.
        return tc.init() == null ? List.of(tc.run().photos()) : List.of(tc.run().photos(), tc.init());
    }

    @Override
    public String logName() {
        return "step";
    }

    @Override
    public int logEvery() {
        return 20;
    }

    /** From the seed, the options' architecture; from --init, that model's, grown if asked. */
    @Override
    public ModelConfig architecture() {
        return tc.init() == null
                ? modelConfig()
                : initManifest().config().withLatentChannels(latentChannels()).withEncoderBlocks(encoderBlocks())
                        .withLatentLevels(latentLevels());
    }

    @Override
    public MipflowModel fresh() {
        if (tc.init() != null) {
            return initial(tc.init());
        }
        // The weights' initialisation draws from the engine's generator.
        Engine.getInstance().setRandomSeed((int) tc.run().seed());
        return MipflowModel.create(modelConfig(), tc.run().seed());
    }

    /**
     * The model of {@code dir} as the starting point, its architecture included (its student is not
     * trained here and is dropped from the output), grown by latent channels, encoder blocks and
     * latent levels when more are asked for; refused when its stages are not the ones asked for or
     * when it would have to shrink, since the recorded options would then describe another network.
     */
    private MipflowModel initial(Path dir) {
        checkInit();
        MipflowModel model = MipflowModel.load(dir);
        model.dropStudent();
        if (model.config().sameArchitecture(architecture())) {
            return model;
        }
        try {
            Engine.getInstance().setRandomSeed((int) tc.run().seed());
            return MipflowModel.grownFrom(model, architecture(), tc.run().seed());
        } finally {
            model.close();
        }
    }

    /**
     * Refuses an --init model whose stages or decoder widths are not this run's, or that has more
     * of a growable part than this run asks for, from its model.json alone (the command calls it
     * before the photos are loaded).
     */
    void checkInit() {
        if (tc.init() == null) {
            return;
        }
        ModelConfig want = modelConfig();
        ModelConfig got = initManifest().config();
        if (got.schedule().stages() != want.schedule().stages()) {
            throw new IllegalArgumentException("--init " + tc.init() + ": its model has " + got.schedule().stages()
                    + " stages, this run " + want.schedule().stages() + " (--stages)");
        }
        if (!Arrays.equals(got.decoderWidths(), want.decoderWidths())) {
            throw new IllegalArgumentException("--init " + tc.init() + ": its decoder's widths are "
                    + widths(got.decoderWidths()) + ", this run asks for " + widths(want.decoderWidths())
                    + " (--decoder-widths); widths are set from the seed, not grown");
        }
        refuseShrinking("its model has latent channels %d", got.latentChannels(), want.latentChannels(),
                "--latent-channels");
        refuseShrinking("its encoder has %d blocks per level", got.encoderBlocks(), want.encoderBlocks(),
                "--encoder-blocks");
        refuseShrinking("the latent enters %d of its decoder levels", got.latentLevels(), want.latentLevels(),
                "--latent-levels");
    }

    private static String widths(int[] w) {
        return Arrays.stream(w).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** A growable setting of the --init model ({@code has}, formatting {@code got}) may grow, not shrink. */
    private void refuseShrinking(String has, int got, int want, String option) {
        if (got > want) {
            throw new IllegalArgumentException("--init " + tc.init() + ": " + String.format(Locale.ROOT, has, got)
                    + ", this run asks for " + want + " (" + option + "); a model can be grown, not shrunk");
        }
    }

    @Override
    public List<Parameter> trained(MipflowModel model) {
        return MipflowModel.parameters(model.encoder(), model.teacher());
    }

    @Override
    public void describe(MipflowModel model, PrintStream out) {
        ModelConfig cfg = model.config();
        out.printf(Locale.ROOT, "encoder %,d parameters, decoder %,d parameters, latent %dx(H/8)x(W/8), K=%d%n",
                model.parameterCount(model.encoder()), model.parameterCount(model.teacher()),
                cfg.latentChannels(), cfg.schedule().stages());
    }

    @Override
    public StageBatch batch(PhotoBank bank, ModelConfig cfg, int step) {
        TrainingSettings r = tc.run();
        return StageBatch.make(bank, cfg, r.batch(), r.crop(), r.seed(), step);
    }

    @Override
    public List<String> lossNames(ModelConfig cfg) {
        List<String> names = new ArrayList<>();
        for (int s = 0; s < cfg.stageTypes(); s++) {
            names.add(s == cfg.fullStageType() ? "full" : "s" + s);
        }
        names.add("ssim");
        return names;
    }

    @Override
    public float[] lossesAndGradients(MipflowModel model, ParameterStore ps, NDManager m, StageBatch b) {
        ModelConfig cfg = model.config();
        int types = cfg.stageTypes();
        NDArray crops = m.create(b.crops(), new Shape(b.rows(), 3, b.crop(), b.crop()));
        NDArray[] parts = new NDArray[types];
        NDArray ssim = null;
        FlowScheduler flow = new FlowScheduler(cfg.schedule());
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray z = model.encoder().forward(ps, new NDList(crops), true).singletonOrThrow();
            NDArray total = null;
            for (int s = 0; s < types; s++) {
                StageBatch.Stage st = b.stages()[s];
                int r = st.side();
                int n = st.rows();
                NDArray x = m.create(st.state(), new Shape(n, 3, r, r));
                NDArray tf = m.create(st.timeFeatures(), new Shape(n, cfg.timeFeatureDim()));
                NDArray v = m.create(st.velocity(), new Shape(n, 3, r, r));
                NDArray zs = n == b.rows() ? z : z.get(new NDIndex("0:" + n));
                NDArray pred = model.teacher().forward(ps, new NDList(x, tf, zs), true).singletonOrThrow();
                NDArray d = pred.sub(v);
                parts[s] = d.mul(d).mean();
                total = total == null ? parts[s] : total.add(parts[s]);
                if (flow.endLevel(s) == 0 && r == b.crop()) {
                    // The state's end is the clean crop: x_u - u v is the network's one-pass guess of it.
                    NDArray u = m.create(st.u(), new Shape(n, 1, 1, 1));
                    NDArray guess = x.sub(pred.mul(u));
                    NDArray clean = n == b.rows() ? crops : crops.get(new NDIndex("0:" + n));
                    NDArray term = SsimLoss.loss(m, guess, clean, tc.ssimWeight() > 0);
                    ssim = ssim == null ? term : ssim.add(term);
                }
            }
            if (ssim != null && tc.ssimWeight() > 0) {
                // A weight held in this step's manager: no temporary scalar on the gradient path.
                total = total.add(ssim.mul(m.create((float) tc.ssimWeight())));
            }
            gc.backward(total);
        }
        float[] losses = new float[types + 1];
        for (int s = 0; s < types; s++) {
            losses[s] = parts[s].getFloat();
        }
        losses[types] = ssim == null ? 0f : ssim.getFloat();
        return losses;
    }

    /**
     * What the run started from: the files' SHA-256s and that model's own training record, so
     * that model.json holds every phase that led to the weights.
     */
    private JsonObject initRecord() {
        ModelManifest m = initManifest();
        JsonObject o = new JsonObject();
        o.add("sha256", m.sha256Of(List.of(MipflowModel.ENCODER_FILE, MipflowModel.TEACHER_FILE)));
        if (m.training().size() > 0) {
            o.add("training", m.training());
        }
        return o;
    }

    private ModelManifest initManifest() {
        if (initManifest == null) {
            initManifest = ModelManifest.read(tc.init());
        }
        return initManifest;
    }

    @Override
    public JsonObject record(String cmd, int steps, double seconds) throws IOException {
        TrainingSettings r = tc.run();
        JsonObject t = r.record(cmd, steps, seconds);
        t.addProperty("threads", r.threads());
        t.addProperty("objective", "multi-stage flow matching, velocity MSE summed over the K stages and the full-resolution "
                + "flow, + ssimWeight * (1 - SSIM(one-pass prediction, clean image)) on the stages that end at the clean image");
        t.addProperty("ssimWeight", tc.ssimWeight());
        t.addProperty("trainList", r.list().getFileName().toString());
        t.addProperty("trainListSha256", Checksums.sha256(r.list()));
        t.addProperty("machine", Runtime.getRuntime().availableProcessors() + " cores, CPU");
        if (tc.init() != null) {
            t.add("initFrom", initRecord());
        }
        return t;
    }
}
