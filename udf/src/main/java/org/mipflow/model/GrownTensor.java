package org.mipflow.model;

import java.util.Arrays;

/**
 * A trained tensor placed into a larger one of a grown network, on plain arrays (row-major).
 *
 * <p>Axis 0 of every weight here counts outputs (a convolution's [out, in, kh, kw], a bias's [out]),
 * the other axes inputs. The trained values fill the leading corner. Where the grown tensor has more
 * inputs for an old output, those entries are zero, so every old output computes what it did; a
 * new output (an index past the old size on axis 0) keeps the grown network's fresh initialisation,
 * so it carries a signal of its own. The grown network computes what the trained one did as long
 * as new outputs feed only new inputs, which is how a latent grows: the encoder's added channels
 * reach the decoder only through its added, zeroed, input columns.
 */
final class GrownTensor {
    private GrownTensor() {}

    /**
     * @param trained the trained values, shape {@code from}
     * @param fresh the grown tensor's initial values, shape {@code to}; not modified
     * @return the grown tensor's values, shape {@code to}
     * @throws IllegalArgumentException unless both shapes have the same rank and {@code to} is at
     *     least {@code from} on every axis
     */
    static float[] embed(float[] trained, long[] from, float[] fresh, long[] to) {
        if (from.length != to.length) {
            throw new IllegalArgumentException("rank " + from.length + " cannot grow into rank " + to.length);
        }
        for (int a = 0; a < from.length; a++) {
            if (to[a] < from[a]) {
                throw new IllegalArgumentException(
                        "shape " + Arrays.toString(from) + " cannot grow into " + Arrays.toString(to));
            }
        }
        if (trained.length != count(from) || fresh.length != count(to)) {
            throw new IllegalArgumentException("values do not match their shapes");
        }
        float[] out = fresh.clone();
        int rank = to.length;
        long[] idx = new long[rank];
        for (int i = 0; i < out.length; i++) {
            if (idx[0] < from[0]) {
                out[i] = inside(idx, from) ? trained[(int) flat(idx, from)] : 0f;
            }
            for (int a = rank - 1; a >= 0 && ++idx[a] == to[a]; a--) {
                idx[a] = 0;
            }
        }
        return out;
    }

    private static boolean inside(long[] idx, long[] shape) {
        for (int a = 0; a < idx.length; a++) {
            if (idx[a] >= shape[a]) {
                return false;
            }
        }
        return true;
    }

    private static long flat(long[] idx, long[] shape) {
        long f = 0;
        for (int a = 0; a < idx.length; a++) {
            f = f * shape[a] + idx[a];
        }
        return f;
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }
}
