package org.mipflow.model;

/**
 * Conditioning features for (flow time, stage type): sinusoids of t plus a one-hot stage. The
 * decoder maps them through an MLP. Built in plain Java because they never need a gradient.
 */
public final class TimeFeatures {
    private TimeFeatures() {}

    public static float[] of(ModelConfig cfg, double t, int stageType) {
        if (stageType < 0 || stageType >= cfg.stageTypes()) {
            throw new IllegalArgumentException("stage type " + stageType + " out of range");
        }
        int n = cfg.timeFrequencies();
        float[] f = new float[cfg.timeFeatureDim()];
        for (int i = 0; i < n; i++) {
            double freq = Math.exp(-Math.log(10000.0) * i / n) * 1000.0;
            f[i] = (float) Math.sin(t * freq);
            f[n + i] = (float) Math.cos(t * freq);
        }
        f[2 * n + stageType] = 1f;
        return f;
    }

    /** Features for a batch where every row has the same (t, stage). */
    public static float[] batch(ModelConfig cfg, int rows, double t, int stageType) {
        float[] one = of(cfg, t, stageType);
        float[] out = new float[rows * one.length];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(one, 0, out, r * one.length, one.length);
        }
        return out;
    }
}
