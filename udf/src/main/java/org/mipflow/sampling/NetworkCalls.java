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
    /**
     * One call's rows and conditions, and the velocities of a step: sized at first use and reused
     * for every step of the task batch while the shape stays (a new stage resizes them once), so a
     * step copies no whole state.
     */
    private float[] xc;
    private float[] zc;
    private float[] out;

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
     * The velocity of n rows, [n,3,h,w], from ceil(n / rows) calls of {@code rows} rows each. The
     * array is this object's, valid until the next call.
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
        float[] v = out = sized(out, n * per);
        calls(x, n, n, h, w, z, zh, zw, t, stageType, student, (row, call, at) ->
                System.arraycopy(call, at, v, row * per, per));
        return v;
    }

    /**
     * A guided step's velocity v_u + W (v_c - v_u) of n rows: 2n rows through the calls, the n
     * conditional rows (states x, latents) then their n unconditional twins (the same states, null
     * conditions), {@code zPair} holding the 2n conditions. Each twin is combined as soon as its
     * call returns, so neither the doubled states nor the doubled velocities are ever held. The
     * array is this object's, valid until the next call.
     */
    public float[] guided(float[] x, int n, int h, int w, float[] zPair, int zh, int zw, double t, int stageType,
            boolean student, float scale) {
        int per = 3 * h * w;
        float[] v = out = sized(out, n * per);
        calls(x, n, 2 * n, h, w, zPair, zh, zw, t, stageType, student, (row, call, at) -> {
            if (row < n) {
                System.arraycopy(call, at, v, row * per, per); // v_c, until its twin arrives
                return;
            }
            int off = (row - n) * per;
            for (int j = 0; j < per; j++) {
                // float arithmetic, as PyTorch's v_u + w * (v_c - v_u) on float32 tensors
                v[off + j] = call[at + j] + scale * (v[off + j] - call[at + j]);
            }
        });
        return v;
    }

    /** Where a call's velocities go: row {@code row} of the step is {@code call[at .. at + 3hw)}. */
    @FunctionalInterface
    private interface Rows {
        void take(int row, float[] call, int at);
    }

    /**
     * {@code total} rows in calls of exactly {@code rows}: row r's state is x's row r mod n, its
     * condition z's block r; the last call padded with copies of its last real row.
     */
    private void calls(float[] x, int n, int total, int h, int w, float[] z, int zh, int zw, double t, int stageType,
            boolean student, Rows sink) {
        int per = 3 * h * w;
        int zper = z.length / total;
        xc = sized(xc, rows * per);
        zc = sized(zc, rows * zper);
        for (int first = 0; first < total; first += rows) {
            int real = Math.min(rows, total - first);
            for (int i = 0; i < real; i++) {
                System.arraycopy(x, ((first + i) % n) * per, xc, i * per, per);
            }
            System.arraycopy(z, first * zper, zc, 0, real * zper);
            for (int pad = real; pad < rows; pad++) {
                System.arraycopy(xc, (real - 1) * per, xc, pad * per, per);
                System.arraycopy(zc, (real - 1) * zper, zc, pad * zper, zper);
            }
            float[] v = model.velocity(xc, rows, h, w, zc, zh, zw, t, stageType, student);
            for (int i = 0; i < real; i++) {
                sink.take(first + i, v, i * per);
            }
        }
    }

    private static float[] sized(float[] a, int length) {
        return a != null && a.length == length ? a : new float[length];
    }

    /**
     * The bytes of float arrays a task batch of n images holds at its largest stage (h x w,
     * {@code zper} latent values per image) while it samples with B = {@code rows}: the batch's
     * latents and states, the null conditions' copy and the step's velocities, one call's rows,
     * conditions and returned velocities, and at a pyramid's last jump the coarser states with
     * the upsampled ones. What the README's executor memory per task is computed from.
     */
    public static long taskBytes(int n, int rows, int h, int w, int zper, boolean guided) {
        long per = 3L * h * w;
        long floats = (long) n * zper // the batch's latents (BatchDecoder)
                + n * per // the states x, which become the images
                + (guided ? 2L * n * zper : 0) // latents then null conditions, for the guided calls
                + n * per // the step's velocities
                + (long) rows * per + (long) rows * zper // one call's rows and conditions
                + (long) rows * per // the velocities a call returns
                + n * per / 4; // the last jump: the previous stage's states beside the upsampled ones
        return 4 * floats;
    }
}
