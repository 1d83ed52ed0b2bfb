package org.mipflow.jobs.train;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.model.ModelManifest;

/**
 * The loop that teacher training and distillation share: the photos, resuming from the last
 * checkpoint (weights, Adam state, step and wall time), batches made a few steps ahead on a
 * thread, one Adam step per batch, loss logging, checkpoints and the final model. What is trained
 * and how its loss is computed is the {@link Objective}'s.
 *
 * <p>A run resumed from a checkpoint goes on as one that never stopped: a batch depends only on its
 * step number, and the checkpoint holds everything else the next step reads (equal to libtorch's
 * rounding, which is not bitwise reproducible from one run to the next).
 */
final class TrainingLoop {
    /** The photo scales every batch is cut from: shorter sides 256, 320, 384, each photo at least 256. */
    private static final int[] PHOTO_SIDES = {256, 320, 384};

    /** One kind of training: what it starts from, what it updates, its batches and its loss. */
    interface Objective<B> {
        /** Name of the checkpoint directory inside the output directory. */
        String checkpointName();

        /** "step" or "distill step": how the log names a step. */
        String logName();

        /** Steps between two log lines. */
        int logEvery();

        /** The architecture the run trains; a checkpoint of another is not resumed. */
        ModelConfig architecture();

        /** The model to start from when there is no checkpoint to resume. */
        MipflowModel fresh() throws IOException;

        /** What the optimizer updates. */
        List<Parameter> trained(MipflowModel model);

        /** The batch of {@code step}, made on the prefetch thread from the step number alone. */
        B batch(PhotoBank bank, ModelConfig cfg, int step);

        /** Names of the parts {@link #lossesAndGradients} returns, as logged. */
        List<String> lossNames(ModelConfig cfg);

        /** Forward pass and backward pass of one step, arrays in {@code m}; the loss parts' values. */
        float[] lossesAndGradients(MipflowModel model, ParameterStore ps, NDManager m, B batch);

        /** model.json's training record after {@code steps} steps and {@code seconds} of training. */
        JsonObject record(String commandLine, int steps, double seconds) throws IOException;

        /** The part of a {@link #record} that describes this run (distillation nests its own under the teacher's). */
        default JsonObject ownRecord(JsonObject record) {
            return record;
        }

        /** "train" or "distill", as its lease names it. */
        String command();

        /** What the run writes directly under its output directory (see {@link OutputDir}). */
        OutputDir.Layout layout();

        /** What the run reads, which its output must stay apart from. */
        List<Path> reads();

        /** Logs what was loaded or built, once, before the first step. */
        default void describe(MipflowModel model, PrintStream log) {}
    }

    private final TrainingSettings run;
    private final PrintStream log;

    TrainingLoop(TrainingSettings run, PrintStream log) {
        this.run = run;
        this.log = log;
    }

    <B> void run(Objective<B> objective, String commandLine) throws Exception {
        try (OutputGuard guard = OutputGuard.openLocal(objective.command(), run.out(), objective.reads(), run.policy(),
                objective.layout())) {
            run(objective, commandLine, guard);
        }
    }

    private <B> void run(Objective<B> objective, String commandLine, OutputGuard guard) throws Exception {
        MipflowModel.configureThreads(run.threads());
        // Checked before the photos load: a resume with other settings is refused at once.
        Path ckpt = run.out().resolve(objective.checkpointName());
        boolean resuming = run.resume() && Checkpoints.exists(ckpt);
        String recorded = resuming ? resumable(objective, ckpt, commandLine) : commandLine;
        long t0 = System.nanoTime();
        PhotoBank bank = PhotoBank.load(run.photos(), run.list(), PHOTO_SIDES, PHOTO_SIDES[0], 2);
        log.printf(Locale.ROOT, "loaded %d photo scales (%d photos skipped: shorter side below %d px) in %.1f s%n",
                bank.size(), bank.skipped(), PHOTO_SIDES[0], (System.nanoTime() - t0) / 1e9);
        // The model (distill's teacher) is loaded before --overwrite removes anything: a bad one deletes nothing.
        int startStep = 0;
        double priorSeconds = 0;
        MipflowModel model;
        if (resuming) {
            model = MipflowModel.load(ckpt);
            Checkpoints.State st = Checkpoints.state(ckpt);
            startStep = st.step();
            priorSeconds = st.seconds();
            log.printf("resuming from step %d (%s)%n", startStep, ckpt);
        } else {
            model = objective.fresh();
        }
        try {
            guard.planIsValid();
            train(objective, model, ckpt, startStep, priorSeconds, bank, recorded);
        } finally {
            model.close();
        }
    }

    /**
     * Refuses to go on from a checkpoint made with other settings (its model.json would then
     * describe a run that did not happen); else the command line to record, both commands chained.
     */
    private static String resumable(Objective<?> objective, Path ckpt, String commandLine) throws Exception {
        ModelManifest saved = ModelManifest.read(ckpt);
        JsonObject was = saved.training();
        List<String> diff = new ArrayList<>(ResumeCheck.differences(was, objective.record(commandLine, 0, 0)));
        if (!saved.config().sameArchitecture(objective.architecture())) {
            diff.add(0, "architecture: checkpoint " + saved.config().summary() + ", this run "
                    + objective.architecture().summary());
        }
        if (!diff.isEmpty()) {
            int shown = Math.min(diff.size(), 4);
            String more = diff.size() > shown ? "; and " + (diff.size() - shown) + " more" : "";
            throw new UsageException("--resume: the checkpoint in " + ckpt + " was made with other settings ("
                    + String.join("; ", diff.subList(0, shown)) + more + "); resume with the settings it was made "
                    + "with, or start over with --overwrite");
        }
        return ResumeCheck.commandChain(objective.ownRecord(was), commandLine);
    }

    private <B> void train(Objective<B> objective, MipflowModel model, Path ckpt, int startStep, double priorSeconds,
            PhotoBank bank, String commandLine) throws Exception {
        ModelConfig cfg = model.config();
        List<Parameter> params = objective.trained(model);
        for (Parameter p : params) {
            p.getArray().setRequiresGradient(true);
        }
        AdamState adam = new AdamState(params, model.manager());
        if (startStep > 0) {
            adam.load(ckpt.resolve("adam.ndlist"));
        }
        objective.describe(model, log);
        List<String> names = objective.lossNames(cfg);
        ParameterStore ps = new ParameterStore(model.manager(), false);
        double[] avg = new double[names.size()];
        int avgN = 0;
        long runStart = System.nanoTime();
        long waitNanos = 0;
        try (Prefetcher<B> batches = new Prefetcher<>(objective.logName().replace(' ', '-') + "-batches", startStep,
                run.steps(), step -> objective.batch(bank, cfg, step))) {
            for (int step = startStep; step < run.steps(); step++) {
                long w0 = System.nanoTime();
                B batch = batches.take();
                waitNanos += System.nanoTime() - w0;
                float[] losses;
                try (NDManager m = model.manager().newSubManager()) {
                    losses = objective.lossesAndGradients(model, ps, m, batch);
                    adam.step(step + 1, (float) run.learningRateAt(step));
                }
                for (int i = 0; i < losses.length; i++) {
                    if (!Float.isFinite(losses[i])) {
                        throw new IllegalStateException(names.get(i) + " loss became " + losses[i] + " at step "
                                + (step + 1) + "; lower --lr");
                    }
                    avg[i] += losses[i];
                }
                avgN++;
                int done = step + 1;
                if (done % objective.logEvery() == 0 || done == run.steps()) {
                    double el = (System.nanoTime() - runStart) / 1e9;
                    double rate = (done - startStep) / el;
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < names.size(); i++) {
                        sb.append(String.format(Locale.ROOT, " %s=%.5f", names.get(i), avg[i] / avgN));
                    }
                    log.printf(Locale.ROOT, "%s %d/%d loss%s | %.1f img/s lr %.2e data-wait %.0f%% | ETA %.0f min%n",
                            objective.logName(), done, run.steps(), sb, rate * run.batch(), run.learningRateAt(step),
                            100.0 * waitNanos / (System.nanoTime() - runStart), (run.steps() - done) / rate / 60);
                    Arrays.fill(avg, 0);
                    avgN = 0;
                }
                if (done % run.checkpointEvery() == 0 && done < run.steps()) {
                    double secs = priorSeconds + (System.nanoTime() - runStart) / 1e9;
                    Checkpoints.write(ckpt, model, adam, done, secs, objective.record(commandLine, done, secs));
                    log.printf("checkpoint at step %d written to %s%n", done, ckpt);
                }
            }
        }
        double seconds = priorSeconds + (System.nanoTime() - runStart) / 1e9;
        model.save(run.out(), objective.record(commandLine, run.steps(), seconds));
        log.printf(Locale.ROOT, "%d steps in %.1f min; model written to %s%n", run.steps(), seconds / 60, run.out());
    }
}
