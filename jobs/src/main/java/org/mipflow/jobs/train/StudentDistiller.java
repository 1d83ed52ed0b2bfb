package org.mipflow.jobs.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.mipflow.model.Checksums;
import org.mipflow.model.FlowUNet;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.model.ModelManifest;
import org.mipflow.model.TimeFeatures;
import org.mipflow.schedule.StageSchedule;

/**
 * One-step distillation per scale (docs/METHOD.md section 5): the student, initialised from the
 * teacher, must take each stage's start to the end the teacher reaches with several Euler steps
 * from the same start and noise. Loss: sum over stages of MSE(student end, teacher end), plus,
 * on the last stage, a weighted MSE to the clean image (a weight-free term that pulls the
 * student toward the originals, which is what PSNR/SSIM measure).
 */
public final class StudentDistiller {
    private static final String CHECKPOINT = "checkpoint-distill";
    private final DistillConfig dc;
    private final PrintStream log;

    public StudentDistiller(DistillConfig dc, PrintStream log) {
        this.dc = dc;
        this.log = log;
    }

    public void run(String commandLine) throws Exception {
        MipflowModel.configureThreads(dc.threads());
        JsonObject teacherRecord = ModelManifest.read(dc.teacher()).training();
        PhotoBank bank = PhotoBank.load(dc.photos(), dc.list(), new int[] {256, 320, 384}, 256, 2);
        Path ckpt = dc.out().resolve(CHECKPOINT);
        int startStep = 0;
        double priorSeconds = 0;
        MipflowModel model;
        if (dc.resume() && Checkpoints.exists(ckpt)) {
            model = MipflowModel.load(ckpt);
            Checkpoints.State st = Checkpoints.state(ckpt);
            startStep = st.step();
            priorSeconds = st.seconds();
            log.printf("resuming distillation from step %d%n", startStep);
        } else {
            model = MipflowModel.load(dc.teacher());
            model.initStudentFromTeacher();
        }
        ModelConfig cfg = model.config();
        StageSchedule sch = cfg.schedule();
        List<Parameter> params = MipflowModel.parameters(model.student());
        for (Parameter p : params) {
            p.getArray().setRequiresGradient(true);
        }
        AdamState adam = new AdamState(params, model.manager());
        if (startStep > 0) {
            adam.load(ckpt.resolve("adam.ndlist"));
        }
        Prefetcher<StageStarts> batches = new Prefetcher<>("distill-batch-maker", startStep, dc.steps(),
                step -> StageStarts.make(bank, sch, dc.batch(), dc.crop(), dc.seed(), step));

        ParameterStore ps = new ParameterStore(model.manager(), false);
        int k = sch.stages();
        double[] avg = new double[k + 1];
        int avgN = 0;
        long runStart = System.nanoTime();
        for (int step = startStep; step < dc.steps(); step++) {
            float[] losses = step(model, ps, adam, batches.take(), step);
            for (int i = 0; i < losses.length; i++) {
                avg[i] += losses[i];
            }
            avgN++;
            int done = step + 1;
            if (done % 10 == 0 || done == dc.steps()) {
                double el = (System.nanoTime() - runStart) / 1e9;
                double rate = (done - startStep) / el;
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < k; i++) {
                    sb.append(String.format(Locale.ROOT, " s%d=%.5f", i, avg[i] / avgN));
                }
                sb.append(String.format(Locale.ROOT, " gt=%.5f", avg[k] / avgN));
                log.printf(Locale.ROOT, "distill step %d/%d loss%s | %.1f img/s | ETA %.0f min%n", done, dc.steps(), sb,
                        rate * dc.batch(), (dc.steps() - done) / rate / 60);
                java.util.Arrays.fill(avg, 0);
                avgN = 0;
            }
            if (done % dc.checkpointEvery() == 0 && done < dc.steps()) {
                double secs = priorSeconds + (System.nanoTime() - runStart) / 1e9;
                Checkpoints.write(ckpt, model, adam, done, secs, record(teacherRecord, commandLine, done, secs));
                log.printf("checkpoint at step %d written to %s%n", done, ckpt);
            }
        }
        batches.close();
        double seconds = priorSeconds + (System.nanoTime() - runStart) / 1e9;
        model.save(dc.out(), record(teacherRecord, commandLine, dc.steps(), seconds));
        log.printf(Locale.ROOT, "distilled %d steps in %.1f min; model written to %s%n", dc.steps(), seconds / 60, dc.out());
        model.close();
    }

    private float[] step(MipflowModel model, ParameterStore ps, AdamState adam, StageStarts b, int step) {
        ModelConfig cfg = model.config();
        StageSchedule sch = cfg.schedule();
        int k = sch.stages();
        int n = b.rows();
        float[] losses = new float[k + 1];
        try (NDManager m = model.manager().newSubManager()) {
            NDArray crops = m.create(b.crops(), new Shape(n, 3, b.crop(), b.crop()));
            NDArray z = model.encoder().forward(ps, new NDList(crops), false).singletonOrThrow();
            NDArray[] starts = new NDArray[k];
            NDArray[] targets = new NDArray[k];
            for (int s = 0; s < k; s++) {
                int r = b.sides()[s];
                starts[s] = m.create(b.starts()[s], new Shape(n, 3, r, r));
                targets[s] = rollout(model.decoder(), ps, m, cfg, starts[s], z, s, dc.teacherSteps());
            }
            NDArray[] parts = new NDArray[k + 1];
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray total = null;
                for (int s = 0; s < k; s++) {
                    NDArray tf = m.create(TimeFeatures.batch(cfg, n, sch.start(s), s), new Shape(n, cfg.timeFeatureDim()));
                    NDArray v = model.student().forward(ps, new NDList(starts[s], tf, z), true).singletonOrThrow();
                    NDArray end = starts[s].sub(v);
                    NDArray d = end.sub(targets[s]);
                    parts[s] = d.mul(d).mean();
                    total = total == null ? parts[s] : total.add(parts[s]);
                    if (s == k - 1 && dc.groundTruthWeight() > 0) {
                        int r = b.sides()[s];
                        NDArray clean = m.create(b.clean()[s], new Shape(n, 3, r, r));
                        NDArray g = end.sub(clean);
                        parts[k] = g.mul(g).mean();
                        // A weight held in this step's manager: no temporary scalar on the gradient path.
                        total = total.add(parts[k].mul(m.create((float) dc.groundTruthWeight())));
                    }
                }
                gc.backward(total);
            }
            for (int i = 0; i < parts.length; i++) {
                losses[i] = parts[i] == null ? 0f : parts[i].getFloat();
            }
            adam.step(step + 1, (float) dc.learningRateAt(step));
        }
        for (float l : losses) {
            if (!Float.isFinite(l)) {
                throw new IllegalStateException("distillation loss became " + l + " at step " + (step + 1));
            }
        }
        return losses;
    }

    /** The teacher's Euler integration of one stage from its start (no gradient is recorded). */
    static NDArray rollout(FlowUNet teacher, ParameterStore ps, NDManager m, ModelConfig cfg, NDArray start, NDArray z,
            int stage, int steps) {
        StageSchedule sch = cfg.schedule();
        long n = start.getShape().get(0);
        NDArray x = start;
        double du = 1.0 / steps;
        NDArray duArr = m.create((float) du);
        for (int i = 0; i < steps; i++) {
            double u = 1.0 - i * du;
            NDArray tf = m.create(TimeFeatures.batch(cfg, (int) n, sch.time(stage, u), stage),
                    new Shape(n, cfg.timeFeatureDim()));
            NDArray v = teacher.forward(ps, new NDList(x, tf, z), false).singletonOrThrow();
            x = x.sub(v.mul(duArr));
        }
        return x;
    }

    private JsonObject record(JsonObject teacherRecord, String cmd, int steps, double seconds) throws java.io.IOException {
        JsonObject t = teacherRecord.deepCopy();
        t.remove("distillation");
        JsonObject d = new JsonObject();
        d.addProperty("command", cmd);
        d.addProperty("steps", steps);
        d.addProperty("wallSeconds", Math.round(seconds));
        d.addProperty("batch", dc.batch());
        d.addProperty("crop", dc.crop());
        d.addProperty("learningRate", dc.learningRate());
        d.addProperty("warmup", dc.warmup());
        d.addProperty("seed", dc.seed());
        d.addProperty("teacherStepsPerStage", dc.teacherSteps());
        d.addProperty("groundTruthWeight", dc.groundTruthWeight());
        d.addProperty("objective", "sum over stages of MSE(student one-step end, teacher multi-step end from the same "
                + "start and noise) + groundTruthWeight * MSE(last-stage student end, clean image)");
        d.addProperty("trainListSha256", Checksums.sha256(dc.list()));
        t.add("distillation", d);
        return t;
    }
}
