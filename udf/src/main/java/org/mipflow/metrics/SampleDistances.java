package org.mipflow.metrics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * rFID and KID of a small paired sample (reference i and decode i of the same image), for any
 * resampling of its rows, as an audit's bootstrap needs them: everything is computed once as
 * n x n matrices (Grams and kernels), so a resample costs an n x n gather and an n x n SVD,
 * whatever the feature dimension.
 *
 * <p>The Fréchet distance's trace term needs no d x d matrix when n is small: with centred
 * feature rows Xr, Xd (n x d), S_r S_d = Xr^T Xr Xd^T Xd / (n-1)^2 has the nonzero eigenvalues of
 * M M^T with M = Xr Xd^T / (n-1), so Tr((S_r S_d)^1/2) is the sum of M's singular values. The
 * features are shifted by the references' mean first (a shift of both sets changes no term) so
 * that the Grams do not carry a large common mean.
 */
public final class SampleDistances {
    private final int n;
    private final double[][] grr;
    private final double[][] gdd;
    private final double[][] grd;
    private final double[][] krr;
    private final double[][] kdd;
    private final double[][] krd;

    public SampleDistances(float[][] reference, float[][] decoded) {
        n = reference.length;
        if (decoded.length != n || n < 2) {
            throw new IllegalArgumentException("a paired sample of at least 2 rows is needed, have " + n + " and "
                    + decoded.length);
        }
        int dim = reference[0].length;
        double[] shift = new double[dim];
        for (float[] r : reference) {
            for (int k = 0; k < dim; k++) {
                shift[k] += r[k] / (double) n;
            }
        }
        double[][] r = shifted(reference, shift);
        double[][] d = shifted(decoded, shift);
        grr = new double[n][n];
        gdd = new double[n][n];
        grd = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                grr[i][j] = dot(r[i], r[j]);
                gdd[i][j] = dot(d[i], d[j]);
                grd[i][j] = dot(r[i], d[j]);
            }
        }
        krr = KernelInceptionDistance.kernels(reference, reference);
        kdd = KernelInceptionDistance.kernels(decoded, decoded);
        krd = KernelInceptionDistance.kernels(reference, decoded);
    }

    public int size() {
        return n;
    }

    /** The rows in their order, each once: the sample itself. */
    public int[] identity() {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return idx;
    }

    /** The Fréchet distance of the resampled rows {@code idx} (repeats allowed). */
    public double rfid(int[] idx) {
        int m = idx.length;
        // centring matrix applied on both sides: M = C G[idx, idx] C, C = I - 11^T / m
        double[][] g = new double[m][m];
        double[] rowMean = new double[m];
        double[] colMean = new double[m];
        double all = 0;
        double meanR = 0;
        double meanD = 0;
        double trR = 0;
        double trD = 0;
        for (int i = 0; i < m; i++) {
            trR += grr[idx[i]][idx[i]];
            trD += gdd[idx[i]][idx[i]];
            for (int j = 0; j < m; j++) {
                double v = grd[idx[i]][idx[j]];
                g[i][j] = v;
                rowMean[i] += v / m;
                colMean[j] += v / m;
                all += v / ((double) m * m);
                meanR += grr[idx[i]][idx[j]] / ((double) m * m);
                meanD += gdd[idx[i]][idx[j]] / ((double) m * m);
            }
        }
        double meanTerm = meanR + meanD - 2 * all; // |mu_r - mu_d|^2 from the Grams
        double traceR = (trR - m * meanR) / (m - 1);
        double traceD = (trD - m * meanD) / (m - 1);
        DMatrixRMaj mm = new DMatrixRMaj(m, m);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                mm.unsafe_set(i, j, (g[i][j] - rowMean[i] - colMean[j] + all) / (m - 1));
            }
        }
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(m, m, false, false, true);
        if (!svd.decompose(mm)) {
            throw new ArithmeticException("SVD of a " + m + "x" + m + " matrix did not converge");
        }
        double nuclear = 0;
        for (double s : svd.getSingularValues()) {
            nuclear += s;
        }
        return meanTerm + traceR + traceD - 2 * nuclear;
    }

    /**
     * KID's unbiased MMD^2 over the resampled rows; pairs that are the same source row twice are
     * left out of the within-set means, as a resample's repeats are not independent draws.
     */
    public double kid(int[] idx) {
        int m = idx.length;
        double xx = 0;
        double yy = 0;
        long pairs = 0;
        double xy = 0;
        // not KernelInceptionDistance.mmd2: a resample's repeats are skipped by source row, not by position
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                xy += krd[idx[i]][idx[j]];
                if (idx[i] != idx[j]) {
                    xx += krr[idx[i]][idx[j]];
                    yy += kdd[idx[i]][idx[j]];
                    pairs++;
                }
            }
        }
        if (pairs == 0) {
            return Double.NaN;
        }
        return (xx + yy) / pairs - 2 * xy / ((double) m * m);
    }

    private static double[][] shifted(float[][] rows, double[] shift) {
        double[][] out = new double[rows.length][shift.length];
        for (int i = 0; i < rows.length; i++) {
            for (int k = 0; k < shift.length; k++) {
                out[i][k] = rows[i][k] - shift[k];
            }
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += a[k] * b[k];
        }
        return s;
    }
}
