package org.mipflow.sampling;

/**
 * Puts any number of rows through a {@link VelocityModel} in calls of exactly {@code rows} rows,
 * the last call padded with copies of its last real row.
 *
 * <p>Why a fixed count: libtorch's CPU kernels choose their blocking and the split of their
 * reductions from the tensor's shape, batch dimension included, so a row's velocity can change in
 * the last bits with the number of rows it is computed with. Measured on the shipped model and
 * on the TorchScript fixtures (NetworkCallsTest): with the call's row count fixed, a row's output
 * did not depend on which rows shared its call, on their values, on its position or on the
 * padding; across row counts it did. So an image's bytes depend on this count, and on nothing
 * the batching or the sharding of a job decides.
 */
public final class NetworkCalls {
    private final VelocityModel model;
    private final int rows;

    public NetworkCalls(VelocityModel model, int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("rows per network call must be at least 1, is " + rows);
        }
        this.model = model;
        this.rows = rows;
    }

    /** Rows in every call. */
    public int rows() {
        return rows;
    }

    /** Calls the chunks of n rows need. */
    public int callsFor(int n) {
        return (n + rows - 1) / rows;
    }

    /**
     * The velocity of n rows, [n,3,h,w], from ceil(n / rows) calls of {@code rows} rows each.
     *
     * @param x states [n,3,h,w]
     * @param z the rows' latents (or null conditions), n equal-sized blocks
     */
    public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
            boolean student) {
        if (n == rows) {
            return model.velocity(x, n, h, w, z, zh, zw, t, stageType, student);
        }
        int per = 3 * h * w;
        int zper = z.length / n;
        float[] out = new float[n * per];
        float[] xc = new float[rows * per];
        float[] zc = new float[rows * zper];
        for (int first = 0; first < n; first += rows) {
            int real = Math.min(rows, n - first);
            System.arraycopy(x, first * per, xc, 0, real * per);
            System.arraycopy(z, first * zper, zc, 0, real * zper);
            for (int pad = real; pad < rows; pad++) {
                System.arraycopy(xc, (real - 1) * per, xc, pad * per, per);
                System.arraycopy(zc, (real - 1) * zper, zc, pad * zper, zper);
            }
            float[] v = model.velocity(xc, rows, h, w, zc, zh, zw, t, stageType, student);
            System.arraycopy(v, 0, out, first * per, real * per);
        }
        return out;
    }
}
