package org.mipflow.metrics;

import java.util.SplittableRandom;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

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

    /**
     * The driver's peak bytes for KID over a sample of n rows of dim features: the three n x n
     * kernel matrices and the product buffer (32 n^2: all kernel values are computed once, see
     * {@link #of}), the two sets as float and as double matrices (24 n dim).
     */
    public static long driverBytes(long n, int dim) {
        return 32 * n * n + 24 * n * dim;
    }

    /** The largest sample whose {@link #driverBytes} fits in {@code bytes}. */
    public static int maxSample(long bytes, int dim) {
        // 32 n^2 + 24 dim n - bytes = 0
        double n = (-24.0 * dim + Math.sqrt(576.0 * dim * dim + 128.0 * bytes)) / 64;
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, Math.floor(n)));
    }

    public static Result of(float[][] x, float[][] y, int subsets, int subsetSize, long seed) {
        int m = Math.min(subsetSize, Math.min(x.length, y.length));
        if (m < 2) {
            throw new IllegalArgumentException("KID needs at least 2 rows in each set, has " + x.length + " and " + y.length);
        }
        // Every kernel value a subset can need, once, by matrix products (EJML): a subset is then
        // an O(m^2) gather, not O(m^2 d) dot products (100 subsets of 1,000 Inception rows would be
        // 6e11 multiply-adds done one by one).
        double[][] kxx = kernels(x, x);
        double[][] kyy = kernels(y, y);
        double[][] kxy = kernels(x, y);
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] v = new double[subsets];
        for (int s = 0; s < subsets; s++) {
            v[s] = mmd2(kxx, kyy, kxy, pick(x.length, m, rnd), pick(y.length, m, rnd));
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

    /** k(a_i, b_j) for all i, j: (A B^T / d + 1)^3. */
    static double[][] kernels(float[][] a, float[][] b) {
        int d = a[0].length;
        DMatrixRMaj ma = matrix(a);
        DMatrixRMaj mb = matrix(b);
        DMatrixRMaj g = new DMatrixRMaj(a.length, b.length);
        CommonOps_DDRM.multTransB(ma, mb, g);
        double[][] k = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                double t = g.unsafe_get(i, j) / d + 1;
                k[i][j] = t * t * t;
            }
        }
        return k;
    }

    private static DMatrixRMaj matrix(float[][] rows) {
        DMatrixRMaj m = new DMatrixRMaj(rows.length, rows[0].length);
        for (int i = 0; i < rows.length; i++) {
            for (int k = 0; k < rows[i].length; k++) {
                m.unsafe_set(i, k, rows[i][k]);
            }
        }
        return m;
    }

    /** m indices of 0..n-1 without replacement (a partial Fisher-Yates shuffle). */
    private static int[] pick(int n, int m, SplittableRandom rnd) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        for (int i = 0; i < m; i++) {
            int j = i + rnd.nextInt(n - i);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        return java.util.Arrays.copyOf(idx, m);
    }

    /** The unbiased MMD^2 of the rows {@code ix} of X and {@code iy} of Y, from precomputed kernels. */
    static double mmd2(double[][] kxx, double[][] kyy, double[][] kxy, int[] ix, int[] iy) {
        int m = ix.length;
        double xx = 0;
        double yy = 0;
        double xy = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                if (i != j) {
                    xx += kxx[ix[i]][ix[j]];
                    yy += kyy[iy[i]][iy[j]];
                }
                xy += kxy[ix[i]][iy[j]];
            }
        }
        return (xx + yy) / ((double) m * (m - 1)) - 2 * xy / ((double) m * m);
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
        int[] all = new int[m];
        for (int i = 0; i < m; i++) {
            all[i] = i;
        }
        return mmd2(kernels(x, x), kernels(y, y), kernels(x, y), all, all);
    }
}
