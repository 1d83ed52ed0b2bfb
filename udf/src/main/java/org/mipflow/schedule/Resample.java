package org.mipflow.schedule;

/**
 * Exact factor-2 resampling on planar float images (any number of h x w planes, e.g. NCHW).
 *
 * <p>Downsampling averages each 2x2 block, which is what bilinear (antialiased) downsampling by
 * exactly 2 reduces to; upsampling repeats each pixel into a 2x2 block. Training and sampling
 * both use these, so the stage pyramid is the same in both.
 */
public final class Resample {
    private Resample() {}

    public static float[] down2(float[] in, int planes, int h, int w) {
        if (h % 2 != 0 || w % 2 != 0) {
            throw new IllegalArgumentException("down2 needs even sides, got " + h + "x" + w);
        }
        int oh = h / 2;
        int ow = w / 2;
        float[] out = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            int ib = p * h * w;
            int ob = p * oh * ow;
            for (int y = 0; y < oh; y++) {
                int r0 = ib + 2 * y * w;
                int r1 = r0 + w;
                for (int x = 0; x < ow; x++) {
                    int c = 2 * x;
                    out[ob + y * ow + x] = 0.25f * (in[r0 + c] + in[r0 + c + 1] + in[r1 + c] + in[r1 + c + 1]);
                }
            }
        }
        return out;
    }

    /** Downsamples by 2^levels. */
    public static float[] down(float[] in, int planes, int h, int w, int levels) {
        float[] cur = in;
        for (int i = 0; i < levels; i++) {
            cur = down2(cur, planes, h >> i, w >> i);
        }
        return cur;
    }

    public static float[] nearestUp2(float[] in, int planes, int h, int w) {
        int oh = h * 2;
        int ow = w * 2;
        float[] out = new float[planes * oh * ow];
        for (int p = 0; p < planes; p++) {
            int ib = p * h * w;
            int ob = p * oh * ow;
            for (int y = 0; y < oh; y++) {
                int src = ib + (y / 2) * w;
                int dst = ob + y * ow;
                for (int x = 0; x < ow; x++) {
                    out[dst + x] = in[src + x / 2];
                }
            }
        }
        return out;
    }
}
