package org.mipflow.jobs.train;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import org.mipflow.jobs.output.WritePolicy;

/**
 * What a teacher training run and a distillation run have in common; all of it is recorded in
 * the model's model.json.
 *
 * @param photos directory the photo list is relative to
 * @param list training photo list (photos-train.lst)
 * @param out model directory to write; checkpoints go to a directory inside it
 * @param batch crops per step
 * @param crop training crop side, a multiple of 64 (8x latent grid, 4x stage pyramid)
 * @param learningRate peak Adam learning rate, reached after {@code warmup} steps, then cosine decay
 * @param threads libtorch intra-op threads
 * @param policy RESUME: continue from the checkpoint in {@code out} if there is one; FRESH: refuse an
 *     {@code out} that holds a model or checkpoint; OVERWRITE: replace them
 */
public record TrainingSettings(
        Path photos,
        Path list,
        Path out,
        int steps,
        int batch,
        int crop,
        double learningRate,
        int warmup,
        long seed,
        int checkpointEvery,
        int threads,
        WritePolicy policy) {

    public TrainingSettings(Path photos, Path list, Path out, int steps, int batch, int crop, double learningRate,
            int warmup, long seed, int checkpointEvery, int threads, boolean resume) {
        this(photos, list, out, steps, batch, crop, learningRate, warmup, seed, checkpointEvery, threads,
                resume ? WritePolicy.RESUME : WritePolicy.FRESH);
    }

    public boolean resume() {
        return policy == WritePolicy.RESUME;
    }

    public TrainingSettings {
        if (steps < 1 || batch < 1 || checkpointEvery < 1) {
            throw new IllegalArgumentException("steps, batch and checkpoint interval must be positive");
        }
        if (crop % 64 != 0) {
            throw new IllegalArgumentException("crop must be a multiple of 64 (8x latent grid, 4x stage pyramid)");
        }
    }

    /** The part of model.json's training record that every run has; each kind adds its own. */
    public JsonObject record(String commandLine, int stepsDone, double seconds) {
        JsonObject t = new JsonObject();
        t.addProperty("command", commandLine);
        t.addProperty("steps", stepsDone);
        t.addProperty("wallSeconds", Math.round(seconds));
        t.addProperty("batch", batch);
        t.addProperty("crop", crop);
        t.addProperty("learningRate", learningRate);
        t.addProperty("warmup", warmup);
        t.addProperty("seed", seed);
        return t;
    }

    public double learningRateAt(int step) {
        return LearningRate.warmupCosine(learningRate, warmup, steps, step);
    }
}
