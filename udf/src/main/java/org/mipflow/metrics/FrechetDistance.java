package org.mipflow.metrics;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * The Fréchet distance between two Gaussians fitted to feature sets (FID when the features are
 * Inception pool3's): ||mu_r - mu_d||^2 + Tr(S_r + S_d - 2 (S_r S_d)^1/2).
 *
 * <p>Tr((S_r S_d)^1/2) is taken by the symmetric route: S_r S_d is similar to the symmetric PSD
 * matrix A = S_r^1/2 S_d S_r^1/2, so their square roots share a trace, which is the sum of the
 * square roots of A's eigenvalues. Both steps are symmetric eigendecompositions (EJML), which are
 * stable where the general square root of a non-symmetric product (scipy's sqrtm) can turn complex
 * on nearly singular covariances. Eigenvalues a rounding error below zero are taken as zero.
 */
public final class FrechetDistance {
    private FrechetDistance() {}

    /** @param covR covR and covD are row-major dim x dim symmetric PSD matrices */
    public static double of(double[] meanR, double[] covR, double[] meanD, double[] covD) {
        int d = meanR.length;
        if (meanD.length != d || covR.length != d * d || covD.length != d * d) {
            throw new IllegalArgumentException("means and covariances of different dimensions");
        }
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            double diff = meanR[i] - meanD[i];
            meanTerm += diff * diff;
        }
        double traces = 0;
        for (int i = 0; i < d; i++) {
            traces += covR[i * d + i] + covD[i * d + i];
        }
        DMatrixRMaj rootR = sqrtPsd(DMatrixRMaj.wrap(d, d, covR.clone()));
        DMatrixRMaj tmp = new DMatrixRMaj(d, d);
        DMatrixRMaj a = new DMatrixRMaj(d, d);
        CommonOps_DDRM.mult(rootR, DMatrixRMaj.wrap(d, d, covD.clone()), tmp);
        CommonOps_DDRM.mult(tmp, rootR, a);
        symmetrise(a);
        double traceRoot = 0;
        for (double ev : eigenvalues(a, false).values) {
            traceRoot += Math.sqrt(Math.max(ev, 0));
        }
        return meanTerm + traces - 2 * traceRoot;
    }

    /** S^1/2 = V diag(sqrt(max(l, 0))) V^T of a symmetric PSD matrix. */
    static DMatrixRMaj sqrtPsd(DMatrixRMaj s) {
        int d = s.numRows;
        symmetrise(s);
        Eigen e = eigenvalues(s, true);
        DMatrixRMaj root = new DMatrixRMaj(d, d);
        for (int k = 0; k < d; k++) {
            double r = Math.sqrt(Math.max(e.values[k], 0));
            if (r == 0) {
                continue;
            }
            DMatrixRMaj v = e.vectors[k];
            for (int i = 0; i < d; i++) {
                double vi = r * v.data[i];
                int row = i * d;
                for (int j = 0; j < d; j++) {
                    root.data[row + j] += vi * v.data[j];
                }
            }
        }
        return root;
    }

    private record Eigen(double[] values, DMatrixRMaj[] vectors) {}

    private static Eigen eigenvalues(DMatrixRMaj s, boolean vectors) {
        int d = s.numRows;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(d, vectors, true);
        if (!eig.decompose(s)) {
            throw new ArithmeticException("symmetric eigendecomposition of a " + d + "x" + d + " matrix did not converge");
        }
        double[] values = new double[d];
        DMatrixRMaj[] vecs = vectors ? new DMatrixRMaj[d] : null;
        for (int k = 0; k < d; k++) {
            values[k] = eig.getEigenvalue(k).real;
            if (vectors) {
                vecs[k] = eig.getEigenVector(k);
            }
        }
        return new Eigen(values, vecs);
    }

    /** Averages a matrix with its transpose: products of symmetric matrices drift by rounding. */
    private static void symmetrise(DMatrixRMaj m) {
        int d = m.numRows;
        for (int i = 0; i < d; i++) {
            for (int j = i + 1; j < d; j++) {
                double v = 0.5 * (m.data[i * d + j] + m.data[j * d + i]);
                m.data[i * d + j] = v;
                m.data[j * d + i] = v;
            }
        }
    }
}
