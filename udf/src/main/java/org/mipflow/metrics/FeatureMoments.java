package org.mipflow.metrics;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;

/**
 * Count, mean and co-moment matrix of a set of feature vectors, in double precision, updated one
 * row at a time (Welford) and merged exactly across partitions, waves and runs (Chan et al.'s
 * pairwise update), so that the covariance of a billion rows from many tasks is as accurate as a
 * two-pass computation over all of them: no sum of squares is ever formed, so a large common mean
 * does not cancel away the variance. Memory is dim (dim + 1) / 2 doubles (the co-moment matrix is
 * symmetric: its upper triangle is kept, packed row by row), whatever the number of rows.
 */
public final class FeatureMoments implements Serializable {
    private final int dim;
    private long count;
    private final double[] mean;
    /** Sum over rows of (x - mean)(x - mean)^T, upper triangle packed row by row: (i, j >= i). */
    private final double[] comoment;

    public FeatureMoments(int dim) {
        if (dim < 1) {
            throw new IllegalArgumentException("feature dimension must be positive, is " + dim);
        }
        this.dim = dim;
        this.mean = new double[dim];
        this.comoment = new double[dim * (dim + 1) / 2];
    }

    public int dim() {
        return dim;
    }

    public long count() {
        return count;
    }

    public double[] mean() {
        return mean.clone();
    }

    /** The unbiased covariance (divided by count - 1, as numpy.cov), row-major; needs two rows. */
    public double[] covariance() {
        if (count < 2) {
            throw new IllegalStateException("a covariance needs at least 2 rows, have " + count);
        }
        double[] c = new double[dim * dim];
        int k = 0;
        for (int i = 0; i < dim; i++) {
            for (int j = i; j < dim; j++) {
                double v = comoment[k++] / (count - 1);
                c[i * dim + j] = v;
                c[j * dim + i] = v;
            }
        }
        return c;
    }

    /** Adds one row: M += (n-1)/n d d^T with d = x - mean before the update. */
    public void add(float[] x) {
        if (x.length != dim) {
            throw new IllegalArgumentException("feature row has " + x.length + " values, expected " + dim);
        }
        count++;
        double[] d = new double[dim];
        for (int i = 0; i < dim; i++) {
            d[i] = x[i] - mean[i];
            mean[i] += d[i] / count;
        }
        double f = (count - 1.0) / count;
        int k = 0;
        for (int i = 0; i < dim; i++) {
            double di = f * d[i];
            for (int j = i; j < dim; j++) {
                comoment[k++] += di * d[j];
            }
        }
    }

    /** Merges {@code other} into this: M = Ma + Mb + d d^T na nb / n with d = mean_b - mean_a. */
    public FeatureMoments merge(FeatureMoments other) {
        if (other.dim != dim) {
            throw new IllegalArgumentException("cannot merge features of dimension " + other.dim + " into " + dim);
        }
        if (other.count == 0) {
            return this;
        }
        if (count == 0) { // a copy, bit for bit: what was read back or merged into an empty set is the same
            count = other.count;
            System.arraycopy(other.mean, 0, mean, 0, dim);
            System.arraycopy(other.comoment, 0, comoment, 0, comoment.length);
            return this;
        }
        long n = count + other.count;
        double[] d = new double[dim];
        for (int i = 0; i < dim; i++) {
            d[i] = other.mean[i] - mean[i];
            mean[i] += d[i] * other.count / n;
        }
        double f = (double) count * other.count / n;
        int k = 0;
        for (int i = 0; i < dim; i++) {
            double di = f * d[i];
            for (int j = i; j < dim; j++, k++) {
                comoment[k] += other.comoment[k] + di * d[j];
            }
        }
        count = n;
        return this;
    }

    void write(DataOutputStream out) throws IOException {
        out.writeInt(dim);
        out.writeLong(count);
        for (double v : mean) {
            out.writeDouble(v);
        }
        for (double v : comoment) {
            out.writeDouble(v);
        }
    }

    static FeatureMoments read(DataInputStream in) throws IOException {
        FeatureMoments m = new FeatureMoments(in.readInt());
        m.count = in.readLong();
        for (int i = 0; i < m.dim; i++) {
            m.mean[i] = in.readDouble();
        }
        for (int i = 0; i < m.comoment.length; i++) {
            m.comoment[i] = in.readDouble();
        }
        return m;
    }
}
