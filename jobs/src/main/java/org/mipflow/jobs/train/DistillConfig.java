package org.mipflow.jobs.train;

import java.nio.file.Path;

/**
 * Settings of one distillation run, recorded in the model's model.json.
 *
 * @param teacher model directory holding the trained teacher (and encoder)
 * @param out model directory to write: teacher, encoder and student together
 * @param teacherSteps Euler steps per stage of the teacher targets
 * @param groundTruthWeight weight of the last stage's distance to the clean image
 */
public record DistillConfig(
        Path photos,
        Path list,
        Path teacher,
        Path out,
        int steps,
        int batch,
        int crop,
        double learningRate,
        int warmup,
        long seed,
        int checkpointEvery,
        int threads,
        int teacherSteps,
        double groundTruthWeight,
        boolean resume) {

    public double learningRateAt(int step) {
        return LearningRate.warmupCosine(learningRate, warmup, steps, step);
    }
}
