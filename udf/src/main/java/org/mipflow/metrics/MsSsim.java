package org.mipflow.metrics;

import java.util.Arrays;

/**
 * Multi-scale structural similarity (Wang, Simoncelli &amp; Bovik 2003, "Multi-scale structural
 * similarity for image quality assessment").
 *
 * <p>Definition, per channel: at scales j = 1..M (M = 5 by default) the image pair is filtered with
 * an 11x11 Gaussian window (sigma 1.5, normalised to sum 1) where the whole window fits ("valid"
 * filtering, no padding; at scale 1 this is exactly the region {@link Ssim} averages after its
 * 5-pixel crop). With K1 = 0.01, K2 = 0.03, C1 = (K1 L)^2, C2 = (K2 L)^2 and population
 * (biased) local variances, scales 1..M-1 contribute the mean contrast-structure map
 * cs = (2 s_xy + C2) / (s_x^2 + s_y^2 + C2) and scale M the mean of l * cs with
 * l = (2 m_x m_y + C1) / (m_x^2 + m_y^2 + C1). Each per-scale mean is clamped to 0 from below
 * (relu, as pytorch_msssim, piq and tf.image.ssim_multiscale do; Wang's MATLAB code does not
 * clamp and goes complex) and raised to the scale's weight; the channel's MS-SSIM is the product.
 * Between scales the images are 2x2 average pooled; an odd side is first extended by repeating
 * its last row/column (MATLAB {@code imfilter(.., ones(2)/4, 'symmetric')} then {@code (1:2:end)},
 * as in TensorFlow), so a side n becomes ceil(n/2).
 *
 * <p>Colour: MS-SSIM is computed on each plane (RGB) separately and the per-plane values are
 * averaged, as pytorch_msssim, piq and TensorFlow do (the product over scales is taken per plane,
 * before averaging).
 *
 * <p>Weights: (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) from the paper, used as published for 5
 * scales (they sum to 1.0001; no library renormalises them). The 5th scale must be at least as
 * large as the window, so {@link #compute(float[], float[], int, int, int, double)} needs both
 * sides to be at least {@link #MIN_SIZE} = 161 pixels and throws an
 * {@link IllegalArgumentException} naming that minimum otherwise, rather than silently changing
 * the definition. Smaller images can be measured with an explicit, smaller number of scales
 * ({@link #compute(float[], float[], int, int, int, double, int)}, at most {@link #maxScales}):
 * the first S weights are then divided by their sum, so S = 1 is plain SSIM (with the clamp).
 * Values with different S are not comparable with each other.
 *
 * <p>Identical inputs give exactly 1 and the value is symmetric in its two arguments (both
 * exactly, not just up to rounding). {@code MsSsimReferenceTest} checks the values against an
 * independent numpy implementation ({@code make_ms_ssim_haarpsi_reference.py}).
 *
 * <p>Cost: separable filtering, one pass per scale with an 11-row ring buffer; no allocation per
 * pixel (buffers are allocated once per call).
 */
public final class MsSsim {
    /** Number of scales of the standard MS-SSIM. */
    public static final int SCALES = 5;
    /** Smallest side (pixels) for which all 5 scales fit the 11x11 window. */
    public static final int MIN_SIZE = minSize(SCALES);

    private static final double[] WEIGHTS = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
    private static final int RADIUS = 5;
    private static final int WIN = 2 * RADIUS + 1;
    private static final double SIGMA = 1.5;
    private static final double K1 = 0.01;
    private static final double K2 = 0.03;
    private static final double[] KERNEL = kernel();

    private MsSsim() {}

    private static double[] kernel() {
        double[] k = new double[WIN];
        double sum = 0;
        for (int i = -RADIUS; i <= RADIUS; i++) {
            k[i + RADIUS] = Math.exp(-0.5 * i * i / (SIGMA * SIGMA));
            sum += k[i + RADIUS];
        }
        for (int i = 0; i < WIN; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** Smallest side for which {@code scales} scales fit: 10 * 2^(scales-1) + 1 (161 for 5). */
    public static int minSize(int scales) {
        if (scales < 1 || scales > SCALES) {
            throw new IllegalArgumentException("MS-SSIM scales must be 1.." + SCALES + ", got " + scales);
        }
        return (WIN - 1) * (1 << (scales - 1)) + 1;
    }

    /** Largest number of scales (0..5) for which an h x w image still fits the 11x11 window at every scale. */
    public static int maxScales(int h, int w) {
        int s = 0;
        while (s < SCALES && Math.min(h, w) >= WIN) {
            s++;
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        return s;
    }

    /** The exponents used with {@code scales} scales (the published weights for 5, renormalised below). */
    public static double[] weights(int scales) {
        minSize(scales);
        double[] out = new double[scales];
        if (scales == SCALES) {
            System.arraycopy(WEIGHTS, 0, out, 0, SCALES);
            return out;
        }
        double sum = 0;
        for (int s = 0; s < scales; s++) {
            sum += WEIGHTS[s];
        }
        for (int s = 0; s < scales; s++) {
            out[s] = WEIGHTS[s] / sum;
        }
        return out;
    }

    /**
     * Standard 5-scale MS-SSIM of planar images [planes,h,w] with values in [0, dataRange] (the
     * project's 8-bit convention: 0..255 and dataRange 255, as for {@link Ssim#compute}).
     *
     * @throws IllegalArgumentException if a side is below {@link #MIN_SIZE} (161) pixels, or the
     *     arrays do not hold planes*h*w values
     */
    public static double compute(float[] a, float[] b, int planes, int h, int w, double dataRange) {
        return compute(a, b, planes, h, w, dataRange, SCALES);
    }

    /**
     * MS-SSIM with {@code scales} (1..5) scales; below 5 the first {@code scales} weights are
     * renormalised to sum 1 (see the class comment). {@code scales = maxScales(h, w)} measures any
     * image of at least 11x11 pixels, at the price of comparability with the 5-scale value.
     */
    public static double compute(float[] a, float[] b, int planes, int h, int w, double dataRange, int scales) {
        double[] exps = weights(scales);
        if (planes < 1 || h < 1 || w < 1 || a.length != (long) planes * h * w || b.length != a.length) {
            throw new IllegalArgumentException("MS-SSIM needs two planar images of " + planes + "x" + h + "x" + w
                    + " values, got " + a.length + " and " + b.length);
        }
        if (Math.min(h, w) < minSize(scales)) {
            throw new IllegalArgumentException("MS-SSIM with " + scales + " scales needs images of at least "
                    + minSize(scales) + "x" + minSize(scales) + " px (the 11x11 window must fit the coarsest scale), got "
                    + h + "x" + w + "; at most " + maxScales(h, w) + " scales fit this size");
        }
        double c1 = (K1 * dataRange) * (K1 * dataRange);
        double c2 = (K2 * dataRange) * (K2 * dataRange);
        Work work = new Work(h, w);
        int n = h * w;
        double total = 0;
        for (int p = 0; p < planes; p++) {
            double[] x = work.x;
            double[] y = work.y;
            double[] nx = work.nx;
            double[] ny = work.ny;
            for (int i = 0; i < n; i++) {
                x[i] = a[p * n + i];
                y[i] = b[p * n + i];
            }
            int sh = h;
            int sw = w;
            double value = 1;
            for (int s = 0; s < scales; s++) {
                boolean last = s == scales - 1;
                double mean = scaleMean(x, y, sh, sw, c1, c2, last, work);
                value *= Math.pow(Math.max(0.0, mean), exps[s]);
                if (!last) {
                    halve(x, sh, sw, nx);
                    halve(y, sh, sw, ny);
                    sh = (sh + 1) / 2;
                    sw = (sw + 1) / 2;
                    double[] t = x;
                    x = nx;
                    nx = t;
                    t = y;
                    y = ny;
                    ny = t;
                }
            }
            total += value;
        }
        return total / planes;
    }

    /** Buffers for one call, sized for the finest scale and reused for all scales and planes. */
    private static final class Work {
        final double[] x;
        final double[] y;
        final double[] nx;
        final double[] ny;
        /** Horizontally filtered rows (ring of WIN rows) of x, y, x^2, y^2, xy. */
        final double[] rx;
        final double[] ry;
        final double[] rxx;
        final double[] ryy;
        final double[] rxy;
        /** One output row of the vertical pass. */
        final double[] mx;
        final double[] my;
        final double[] mxx;
        final double[] myy;
        final double[] mxy;

        Work(int h, int w) {
            x = new double[h * w];
            y = new double[h * w];
            int half = ((h + 1) / 2) * ((w + 1) / 2);
            nx = new double[Math.max(half, 1)];
            ny = new double[Math.max(half, 1)];
            int ow = w - WIN + 1;
            rx = new double[WIN * ow];
            ry = new double[WIN * ow];
            rxx = new double[WIN * ow];
            ryy = new double[WIN * ow];
            rxy = new double[WIN * ow];
            mx = new double[ow];
            my = new double[ow];
            mxx = new double[ow];
            myy = new double[ow];
            mxy = new double[ow];
        }
    }

    /**
     * Mean over the valid region of the cs map, or of the SSIM map (l * cs) when {@code withLuminance}.
     * Images are h x w row-major (h, w at least 11); the x/y buffers may be larger.
     */
    private static double scaleMean(double[] x, double[] y, int h, int w, double c1, double c2,
                                    boolean withLuminance, Work work) {
        int ow = w - WIN + 1;
        int oh = h - WIN + 1;
        double[] k = KERNEL;
        double[] rx = work.rx;
        double[] ry = work.ry;
        double[] rxx = work.rxx;
        double[] ryy = work.ryy;
        double[] rxy = work.rxy;
        double[] mx = work.mx;
        double[] my = work.my;
        double[] mxx = work.mxx;
        double[] myy = work.myy;
        double[] mxy = work.mxy;
        double sum = 0;
        for (int r = 0; r < h; r++) {
            // horizontal pass of row r into ring slot r % WIN
            int slot = (r % WIN) * ow;
            int row = r * w;
            for (int c = 0; c < ow; c++) {
                double sx = 0;
                double sy = 0;
                double sxx = 0;
                double syy = 0;
                double sxy = 0;
                int i0 = row + c;
                for (int t = 0; t < WIN; t++) {
                    double g = k[t];
                    double xv = x[i0 + t];
                    double yv = y[i0 + t];
                    // g * (x * y) rather than (g * x) * y keeps the result exactly symmetric in x, y
                    sx += g * xv;
                    sy += g * yv;
                    sxx += g * (xv * xv);
                    syy += g * (yv * yv);
                    sxy += g * (xv * yv);
                }
                rx[slot + c] = sx;
                ry[slot + c] = sy;
                rxx[slot + c] = sxx;
                ryy[slot + c] = syy;
                rxy[slot + c] = sxy;
            }
            int o = r - (WIN - 1);
            if (o < 0) {
                continue;
            }
            // vertical pass: output row o uses input rows o..o+10 = slots (o+t) % WIN
            Arrays.fill(mx, 0, ow, 0.0);
            Arrays.fill(my, 0, ow, 0.0);
            Arrays.fill(mxx, 0, ow, 0.0);
            Arrays.fill(myy, 0, ow, 0.0);
            Arrays.fill(mxy, 0, ow, 0.0);
            for (int t = 0; t < WIN; t++) {
                double g = k[t];
                int base = ((o + t) % WIN) * ow;
                for (int c = 0; c < ow; c++) {
                    mx[c] += g * rx[base + c];
                    my[c] += g * ry[base + c];
                    mxx[c] += g * rxx[base + c];
                    myy[c] += g * ryy[base + c];
                    mxy[c] += g * rxy[base + c];
                }
            }
            double rowSum = 0;
            for (int c = 0; c < ow; c++) {
                double ux = mx[c];
                double uy = my[c];
                double vx = mxx[c] - ux * ux;
                double vy = myy[c] - uy * uy;
                double cov = mxy[c] - ux * uy;
                double cs = (2 * cov + c2) / (vx + vy + c2);
                if (withLuminance) {
                    cs *= (2 * ux * uy + c1) / (ux * ux + uy * uy + c1);
                }
                rowSum += cs;
            }
            sum += rowSum;
        }
        return sum / ((double) oh * ow);
    }

    /** 2x2 average pooling to ceil(h/2) x ceil(w/2); an odd last row/column is paired with itself. */
    private static void halve(double[] src, int h, int w, double[] dst) {
        int nh = (h + 1) / 2;
        int nw = (w + 1) / 2;
        for (int r = 0; r < nh; r++) {
            int r0 = 2 * r * w;
            int r1 = Math.min(2 * r + 1, h - 1) * w;
            int out = r * nw;
            for (int c = 0; c < nw; c++) {
                int c0 = 2 * c;
                int c1 = Math.min(2 * c + 1, w - 1);
                dst[out + c] = 0.25 * (src[r0 + c0] + src[r0 + c1] + src[r1 + c0] + src[r1 + c1]);
            }
        }
    }
}
