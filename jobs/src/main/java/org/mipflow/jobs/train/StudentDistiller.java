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
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.model.Checksums;
import org.mipflow.model.FlowUNet;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.model.ModelManifest;
import org.mipflow.model.TimeFeatures;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.StageSchedule;

/**
 * One-step distillation per scale (docs/METHOD.md section 5): the student, initialised from the
 * teacher, must take each stage's start to the end the teacher reaches with several Euler steps
 * from the same start and noise. Loss: sum over stages of MSE(student end, teacher end), plus,
 * on the last stage, a weighted MSE and a weighted 1 - SSIM to the clean image (terms the
 * teacher's targets do not have, which pull the student toward the originals, as PSNR and SSIM
 * measure it).
 */
public final class StudentDistiller implements TrainingLoop.Objective<StageStarts> {
    private final DistillConfig dc;
    private final PrintStream log;
    /** The teacher's model.json, read (and its checksums verified) once per run. */
    private ModelManifest teacher;

    public StudentDistiller(DistillConfig dc, PrintStream log) {
        this.dc = dc;
        this.log = log;
    }

    public void run(String commandLine) throws Exception {
        teacher = ModelManifest.read(dc.teacher());
        new TrainingLoop(dc.run(), log).run(this, commandLine);
    }

    @Override
    public String checkpointName() {
        return "checkpoint-distill";
    }

    @Override
    public JsonObject ownRecord(JsonObject record) {
        JsonObject d = record.getAsJsonObject("distillation");
        return d == null ? new JsonObject() : d;
    }

    @Override
    public String command() {
        return "distill";
    }

    /**
     * Into the teacher's own directory (the default), the teacher is the input and stays: only the
     * checkpoints are this run's, and the student is added or replaced as documented.
     */
    @Override
    public OutputDir.Layout layout() {
        String ckpt = "checkpoint-distill(\\.tmp|\\.old)?";
        return (intoTeacher() ? OutputDir.Layout.of(ckpt, "checkpoint-distill/")
                : OutputDir.Layout.of(TeacherTrainer.MODEL_FILES + "|" + ckpt, "model.json, *.params, checkpoint-distill/"))
                .withResume();
    }

    @Override
    public List<Path> reads() {
        return intoTeacher() ? List.of(dc.run().photos()) : List.of(dc.run().photos(), dc.teacher());
    }

    private boolean intoTeacher() {
        return dc.teacher().toAbsolutePath().normalize().equals(dc.run().out().toAbsolutePath().normalize());
    }

    @Override
    public String logName() {
        return "distill step";
    }

    @Override
    public int logEvery() {
        return 10;
    }

    @Override
    public ModelConfig architecture() {
        return teacher.config();
    }

    @Override
    public MipflowModel fresh() {
        MipflowModel model = MipflowModel.load(dc.teacher());
        model.initStudentFromTeacher();
        return model;
    }

    @Override
    public List<Parameter> trained(MipflowModel model) {
        return MipflowModel.parameters(model.student());
    }

    @Override
    public StageStarts batch(PhotoBank bank, ModelConfig cfg, int step) {
        TrainingSettings r = dc.run();
        return StageStarts.make(bank, cfg.schedule(), r.batch(), r.crop(), r.seed(), step);
    }

    @Override
    public List<String> lossNames(ModelConfig cfg) {
        List<String> names = new ArrayList<>();
        for (int s = 0; s < cfg.schedule().stages(); s++) {
            names.add("s" + s);
        }
        names.add("gt");
        names.add("ssim");
        return names;
    }

    @Override
    public float[] lossesAndGradients(MipflowModel model, ParameterStore ps, NDManager m, StageStarts b) {
        ModelConfig cfg = model.config();
        StageSchedule sch = cfg.schedule();
        int k = sch.stages();
        int n = b.rows();
        NDArray crops = m.create(b.crops(), new Shape(n, 3, b.crop(), b.crop()));
        NDArray z = model.encoder().forward(ps, new NDList(crops), false).singletonOrThrow();
        NDArray[] starts = new NDArray[k];
        NDArray[] targets = new NDArray[k];
        for (int s = 0; s < k; s++) {
            int r = b.sides()[s];
            starts[s] = m.create(b.starts()[s], new Shape(n, 3, r, r));
            targets[s] = rollout(model.teacher(), ps, m, cfg, starts[s], z, s, dc.teacherSteps());
        }
        NDArray[] parts = new NDArray[k + 2];
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray total = null;
            for (int s = 0; s < k; s++) {
                NDArray tf = m.create(TimeFeatures.batch(cfg, n, sch.start(s), s), new Shape(n, cfg.timeFeatureDim()));
                NDArray v = model.student().forward(ps, new NDList(starts[s], tf, z), true).singletonOrThrow();
                NDArray end = starts[s].sub(v);
                NDArray d = end.sub(targets[s]);
                parts[s] = d.mul(d).mean();
                total = total == null ? parts[s] : total.add(parts[s]);
                if (s == k - 1) {
                    int r = b.sides()[s];
                    NDArray clean = m.create(b.clean()[s], new Shape(n, 3, r, r));
                    NDArray g = end.sub(clean);
                    parts[k] = g.mul(g).mean();
                    parts[k + 1] = SsimLoss.loss(m, end, clean, dc.ssimWeight() > 0);
                    // Weights held in this step's manager: no temporary scalar on the gradient path.
                    if (dc.groundTruthWeight() > 0) {
                        total = total.add(parts[k].mul(m.create((float) dc.groundTruthWeight())));
                    }
                    if (dc.ssimWeight() > 0) {
                        total = total.add(parts[k + 1].mul(m.create((float) dc.ssimWeight())));
                    }
                }
            }
            gc.backward(total);
        }
        float[] losses = new float[k + 2];
        for (int i = 0; i < parts.length; i++) {
            losses[i] = parts[i] == null ? 0f : parts[i].getFloat();
        }
        return losses;
    }

    /** The teacher's Euler integration of one stage from its start (no gradient is recorded). */
    static NDArray rollout(FlowUNet teacher, ParameterStore ps, NDManager m, ModelConfig cfg, NDArray start, NDArray z,
            int stage, int steps) {
        FlowScheduler sch = new FlowScheduler(cfg.schedule());
        FlowScheduler.Grid grid = sch.grid(stage, steps);
        long n = start.getShape().get(0);
        NDArray x = start;
        for (int i = 0; i < grid.steps(); i++) {
            NDArray tf = m.create(TimeFeatures.batch(cfg, (int) n, grid.t()[i], stage),
                    new Shape(n, cfg.timeFeatureDim()));
            NDArray v = teacher.forward(ps, new NDList(x, tf, z), false).singletonOrThrow();
            // The sampler's step, on NDArrays (no gradient here, so the scalar tensor may be temporary).
            x = sch.step(x, v, grid, i, (a, b, scale) -> a.sub(b.mul(m.create((float) scale))));
        }
        return x;
    }

    @Override
    public JsonObject record(String cmd, int steps, double seconds) throws IOException {
        TrainingSettings r = dc.run();
        JsonObject t = teacher.training().deepCopy();
        t.remove("distillation");
        JsonObject d = r.record(cmd, steps, seconds);
        // Which teacher, by its files: two teachers trained alike have the same record.
        d.add("teacherSha256", teacher.sha256Of(List.of(MipflowModel.ENCODER_FILE, MipflowModel.TEACHER_FILE)));
        d.addProperty("teacherStepsPerStage", dc.teacherSteps());
        d.addProperty("groundTruthWeight", dc.groundTruthWeight());
        d.addProperty("ssimWeight", dc.ssimWeight());
        d.addProperty("objective", "sum over stages of MSE(student one-step end, teacher multi-step end from the same "
                + "start and noise) + groundTruthWeight * MSE(last-stage student end, clean image) + ssimWeight * "
                + "(1 - SSIM(last-stage student end, clean image))");
        d.addProperty("trainListSha256", Checksums.sha256(r.list()));
        t.add("distillation", d);
        return t;
    }
}
