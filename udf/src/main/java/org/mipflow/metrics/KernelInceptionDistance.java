package org.mipflow.metrics;

import java.util.SplittableRandom;

/**
 * KID (Bińkowski et al. 2018): the unbiased estimate of the squared MMD between two feature sets
 * under the cubic polynomial kernel k(x, y) = (x.y / dim + 1)^3, averaged over random subsets, as
 * torch-fidelity and clean-fid compute it: each of {@code subsets} draws m = min(subsetSize, |X|,
 * |Y|) rows of each set without replacement, and the result is the mean and the (population)
 * standard deviation over subsets. The subsets come from a seeded generator, so the figure is
 * reproducible.
 */
public final class KernelInceptionDistance {
    public static final int SUBSETS = 100;
    public static final int SUBSET_SIZE = 1000;

    private KernelInceptionDistance() {}

    public record Result(double mean, double std, int subsets, int subsetSize) {}

    public static Result of(float[][] x, float[][] y, int subsets, int subsetSize, long seed) {
        int m = Math.min(subsetSize, Math.min(x.length, y.length));
        if (m < 2) {
            throw new IllegalArgumentException("KID needs at least 2 rows in each set, has " + x.length + " and " + y.length);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] v = new double[subsets];
        for (int s = 0; s < subsets; s++) {
            v[s] = mmd2(pick(x, m, rnd), pick(y, m, rnd));
        }
        double mean = 0;
        for (double a : v) {
            mean += a;
        }
        mean /= subsets;
        double var = 0;
        for (double a : v) {
            var += (a - mean) * (a - mean);
        }
        return new Result(mean, Math.sqrt(var / subsets), subsets, m);
    }

    /** m rows of {@code rows} without replacement (a partial Fisher-Yates shuffle). */
    private static float[][] pick(float[][] rows, int m, SplittableRandom rnd) {
        int[] idx = new int[rows.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        float[][] out = new float[m][];
        for (int i = 0; i < m; i++) {
            int j = i + rnd.nextInt(idx.length - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
            out[i] = rows[idx[i]];
        }
        return out;
    }

    /**
     * Unbiased MMD^2 of two equally sized sets: the off-diagonal means of K_XX and K_YY minus twice
     * the mean of K_XY.
     */
    public static double mmd2(float[][] x, float[][] y) {
        int m = x.length;
        if (y.length != m) {
            throw new IllegalArgumentException("sets of " + m + " and " + y.length + " rows");
        }
        double xx = 0;
        double yy = 0;
        double xy = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                if (i != j) {
                    xx += kernel(x[i], x[j]);
                    yy += kernel(y[i], y[j]);
                }
                xy += kernel(x[i], y[j]);
            }
        }
        return (xx + yy) / ((double) m * (m - 1)) - 2 * xy / ((double) m * m);
    }

    static double kernel(float[] a, float[] b) {
        double dot = 0;
        for (int k = 0; k < a.length; k++) {
            dot += (double) a[k] * b[k];
        }
        double v = dot / a.length + 1;
        return v * v * v;
    }
}
