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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.mipflow.model.Checksums;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.schedule.StageSchedule;

/**
 * Trains the encoder and the flow decoder jointly with the multi-stage flow-matching loss.
 *
 * <p>Batches are made on a separate thread (queue of a few) so the trainer never waits for
 * data; each step's loss is the sum over stage types of the velocity MSE.
 */
public final class TeacherTrainer {
    private static final String CHECKPOINT = "checkpoint";
    private final TrainConfig tc;
    private final PrintStream log;

    public TeacherTrainer(TrainConfig tc, PrintStream log) {
        this.tc = tc;
        this.log = log;
    }

    public ModelConfig modelConfig() {
        ModelConfig d = ModelConfig.DEFAULT;
        return new ModelConfig(tc.latentChannels(), d.downsample(), d.encoderWidth(), d.decoderWidths(),
                d.timeFrequencies(), d.embedDim(), new StageSchedule(tc.stages(), d.schedule().gamma()));
    }

    public void run(String commandLine) throws Exception {
        MipflowModel.configureThreads(tc.threads());
        Engine.getInstance().setRandomSeed((int) tc.seed());
        long t0 = System.nanoTime();
        PhotoBank bank = PhotoBank.load(tc.photos(), tc.list(), new int[] {256, 320, 384}, 256, 2);
        log.printf(Locale.ROOT, "loaded %d photo scales (%d photos skipped: shorter side below 256 px) in %.1f s%n",
                bank.size(), bank.skipped(), (System.nanoTime() - t0) / 1e9);

        Path ckpt = tc.out().resolve(CHECKPOINT);
        int startStep = 0;
        double priorSeconds = 0;
        MipflowModel model;
        if (tc.resume() && Checkpoints.exists(ckpt)) {
            model = MipflowModel.load(ckpt);
            Checkpoints.State st = Checkpoints.state(ckpt);
            startStep = st.step();
            priorSeconds = st.seconds();
            log.printf("resuming from step %d%n", startStep);
        } else {
            model = MipflowModel.create(modelConfig(), tc.seed());
        }
        ModelConfig cfg = model.config();
        List<Parameter> params = MipflowModel.parameters(model.encoder(), model.decoder());
        for (Parameter p : params) {
            p.getArray().setRequiresGradient(true);
        }
        AdamState adam = new AdamState(params, model.manager());
        if (startStep > 0) {
            adam.load(ckpt.resolve("adam.ndlist"));
        }
        log.printf(Locale.ROOT, "encoder %,d parameters, decoder %,d parameters, latent %dx(H/8)x(W/8), K=%d%n",
                model.parameterCount(model.encoder()), model.parameterCount(model.decoder()),
                cfg.latentChannels(), cfg.schedule().stages());

        Prefetcher<StageBatch> batches = new Prefetcher<>("batch-maker", startStep, tc.steps(),
                step -> StageBatch.make(bank, cfg, tc.batch(), tc.crop(), tc.seed(), step));

        ParameterStore ps = new ParameterStore(model.manager(), false);
        int types = cfg.stageTypes();
        double[] avg = new double[types];
        int avgN = 0;
        long runStart = System.nanoTime();
        long waitNanos = 0;
        for (int step = startStep; step < tc.steps(); step++) {
            long w0 = System.nanoTime();
            StageBatch b = batches.take();
            waitNanos += System.nanoTime() - w0;
            float[] losses = trainStep(model, ps, adam, b, step);
            for (int s = 0; s < types; s++) {
                avg[s] += losses[s];
            }
            avgN++;
            int done = step + 1;
            if (done % 20 == 0 || done == tc.steps()) {
                double el = (System.nanoTime() - runStart) / 1e9;
                double rate = (done - startStep) / el;
                StringBuilder sb = new StringBuilder();
                for (int s = 0; s < types; s++) {
                    sb.append(String.format(Locale.ROOT, " %s=%.4f", s == cfg.fullStageType() ? "full" : "s" + s, avg[s] / avgN));
                }
                log.printf(Locale.ROOT, "step %d/%d loss%s | %.1f img/s lr %.2e data-wait %.0f%% | ETA %.0f min%n",
                        done, tc.steps(), sb, rate * tc.batch(), tc.learningRateAt(step),
                        100.0 * waitNanos / (System.nanoTime() - runStart), (tc.steps() - done) / rate / 60);
                java.util.Arrays.fill(avg, 0);
                avgN = 0;
            }
            if (done % tc.checkpointEvery() == 0 && done < tc.steps()) {
                checkpoint(model, adam, ckpt, done, priorSeconds + (System.nanoTime() - runStart) / 1e9, commandLine);
            }
        }
        batches.close();
        double seconds = priorSeconds + (System.nanoTime() - runStart) / 1e9;
        model.save(tc.out(), trainingRecord(commandLine, tc.steps(), seconds));
        log.printf(Locale.ROOT, "trained %d steps in %.1f min; model written to %s%n", tc.steps(), seconds / 60, tc.out());
        model.close();
    }

    private float[] trainStep(MipflowModel model, ParameterStore ps, AdamState adam, StageBatch b, int step) {
        ModelConfig cfg = model.config();
        int types = cfg.stageTypes();
        float[] losses = new float[types];
        try (NDManager m = model.manager().newSubManager()) {
            NDArray crops = m.create(b.crops(), new Shape(b.rows(), 3, b.crop(), b.crop()));
            NDArray[] parts = new NDArray[types];
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
                    NDArray pred = model.decoder().forward(ps, new NDList(x, tf, zs), true).singletonOrThrow();
                    NDArray d = pred.sub(v);
                    parts[s] = d.mul(d).mean();
                    total = total == null ? parts[s] : total.add(parts[s]);
                }
                gc.backward(total);
            }
            for (int s = 0; s < types; s++) {
                losses[s] = parts[s].getFloat();
            }
            adam.step(step + 1, (float) tc.learningRateAt(step));
        }
        for (float l : losses) {
            if (!Float.isFinite(l)) {
                throw new IllegalStateException("loss became " + l + " at step " + (step + 1) + "; lower --lr");
            }
        }
        return losses;
    }

    private void checkpoint(MipflowModel model, AdamState adam, Path ckpt, int step, double seconds, String cmd)
            throws IOException {
        Checkpoints.write(ckpt, model, adam, step, seconds, trainingRecord(cmd, step, seconds));
        log.printf("checkpoint at step %d written to %s%n", step, ckpt);
    }

    private JsonObject trainingRecord(String cmd, int steps, double seconds) throws IOException {
        JsonObject t = new JsonObject();
        t.addProperty("command", cmd);
        t.addProperty("steps", steps);
        t.addProperty("wallSeconds", Math.round(seconds));
        t.addProperty("batch", tc.batch());
        t.addProperty("crop", tc.crop());
        t.addProperty("learningRate", tc.learningRate());
        t.addProperty("warmup", tc.warmup());
        t.addProperty("seed", tc.seed());
        t.addProperty("threads", tc.threads());
        t.addProperty("objective", "multi-stage flow matching, velocity MSE summed over the K stages and the full-resolution flow");
        t.addProperty("trainList", tc.list().getFileName().toString());
        t.addProperty("trainListSha256", Checksums.sha256(tc.list()));
        t.addProperty("machine", Runtime.getRuntime().availableProcessors() + " cores, CPU");
        return t;
    }
}
