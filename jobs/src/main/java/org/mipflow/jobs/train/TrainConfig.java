package org.mipflow.jobs.train;

import java.nio.file.Path;

/**
 * Settings of one teacher training run; all of them are recorded in the model's model.json.
 *
 * @param photos directory the photo list is relative to
 * @param list training photo list (photos-train.lst)
 * @param out model directory to write; checkpoints go to out/checkpoint
 */
public record TrainConfig(
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
        int latentChannels,
        int stages,
        boolean resume) {

    public TrainConfig {
        if (steps < 1 || batch < 1 || checkpointEvery < 1) {
            throw new IllegalArgumentException("steps, batch and checkpoint interval must be positive");
        }
        if (crop % 64 != 0) {
            throw new IllegalArgumentException("crop must be a multiple of 64 (8x latent grid, 4x stage pyramid)");
        }
    }

    public double learningRateAt(int step) {
        return LearningRate.warmupCosine(learningRate, warmup, steps, step);
    }
}
