package org.mipflow.jobs.train;

/** The learning-rate schedule of training and distillation: linear warm-up, then cosine decay to a tenth. */
final class LearningRate {
    private LearningRate() {}

    static double warmupCosine(double peak, int warmup, int steps, int step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        double p = (double) (step - warmup) / Math.max(1, steps - warmup);
        return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p))));
    }
}
