package org.mipflow.jobs.train;

import java.nio.file.Path;

/**
 * Settings of one distillation run, recorded in the model's model.json.
 *
 * @param run what every training run has; {@code run.out()} gets teacher, encoder and student together
 * @param teacher model directory holding the trained teacher (and encoder)
 * @param teacherSteps Euler steps per stage of the teacher targets
 * @param groundTruthWeight weight of the last stage's mean squared distance to the clean image
 * @param ssimWeight weight of the last stage's 1 - SSIM to the clean image
 */
public record DistillConfig(TrainingSettings run, Path teacher, int teacherSteps, double groundTruthWeight,
        double ssimWeight) {}
