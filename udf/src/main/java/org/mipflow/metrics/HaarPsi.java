package org.mipflow.metrics;

import java.util.Arrays;

/**
 * Haar wavelet-based perceptual similarity index, HaarPSI (Reisenhofer, Bosse, Kutyniok &amp;
 * Wiegand 2018, "A Haar wavelet-based perceptual similarity index for image quality assessment"),
 * full-colour version, following the authors' reference implementation (HaarPSI.m / haarPsi.py,
 * github.com/rgcda/haarpsi) step by step:
 *
 * <ol>
 *   <li>RGB to YIQ: Y = .299 R + .587 G + .114 B, I = .596 R - .274 G - .322 B,
 *       Q = .211 R - .523 G + .312 B, on values in [0, 255] (C below assumes that scale).
 *   <li>Preprocessing for the viewing distance: Y, I and Q are filtered with the 2x2 mean and
 *       every second row and column (starting with the first) is kept, so h x w becomes
 *       ceil(h/2) x ceil(w/2).
 *   <li>Haar wavelet filters at scales j = 1, 2, 3 on Y: 2^-j times a 2^j x 2^j block that is -1
 *       on its top half and +1 on its bottom half (vertical detail), and its transpose
 *       (horizontal detail).
 *   <li>Per orientation, the local similarity is the mean over scales 1 and 2 of
 *       (2|a||b| + C) / (a^2 + b^2 + C), C = 30, and the weight map is max(|a3|, |b3|) of the
 *       scale-3 coefficients of the two images.
 *   <li>Chroma: |I| and |Q| after one more 2x2 mean filter; their similarities (same formula and C)
 *       are averaged, with weight (w_vertical + w_horizontal) / 2.
 *   <li>Score: logit(sum(sigmoid(S) W) / sum(W))^2 over the three maps, with
 *       sigmoid(x) = 1 / (1 + exp(-alpha x)), logit its inverse, alpha = 4.2.
 * </ol>
 *
 * <p>Every filter is MATLAB {@code conv2(X, K, 'same')} with zero padding: for these even-sized
 * kernels the window at (i, j) covers rows i-2^(j-1)+1 .. i+2^(j-1) (the 2x2 means: i, i+1), and
 * samples outside the image count as 0, as in the reference. The box sums are taken from integral
 * images, so the cost does not grow with the filter size.
 *
 * <p>Grey images ({@code planes = 1}) use the reference's grey variant: the plane is Y and there is
 * no chroma term. The index lies in (0, 1]; identical inputs return exactly 1 (the reference
 * returns 1 up to rounding, ~1e-16, because logit(sigmoid(1)) is not exact in floating point).
 * It is symmetric in its arguments. It needs no minimum size, but below about 32 pixels a side
 * the scale-3 filters (16 px wide on the original image) mostly see the zero padding.
 * {@code HaarPsiReferenceTest} checks it against an independent numpy implementation
 * ({@code make_ms_ssim_haarpsi_reference.py}), which itself agrees with the authors' haarPsi.py.
 */
public final class HaarPsi {
    /** The constant C of the similarity terms (for values in [0, 255]). */
    public static final double C = 30.0;
    /** Steepness of the logistic function. */
    public static final double ALPHA = 4.2;
    private static final int SCALES = 3;

    private HaarPsi() {}

    /**
     * HaarPSI of a reference and a distorted planar image [planes,h,w] (planes 3: RGB, or 1:
     * grey), values in [0, 255] (the project's 8-bit convention, as for {@link Ssim#compute} with
     * dataRange 255). The index is symmetric, so the order only matters for readability.
     */
    public static double compute(float[] reference, float[] distorted, int planes, int h, int w) {
        if ((planes != 1 && planes != 3) || h < 1 || w < 1 || reference.length != (long) planes * h * w
                || distorted.length != reference.length) {
            throw new IllegalArgumentException("HaarPSI needs two planar images of 3 (RGB) or 1 (grey) x " + h + "x" + w
                    + " values with planes = 1 or 3, got planes " + planes + " and " + reference.length + ", "
                    + distorted.length + " values");
        }
        if (Arrays.equals(reference, distorted)) {
            return 1.0;
        }
        boolean colour = planes == 3;
        int sh = (h + 1) / 2;
        int sw = (w + 1) / 2;
        int m = sh * sw;
        double[] yRef = new double[m];
        double[] yDist = new double[m];
        double[] iRef = colour ? new double[m] : null;
        double[] qRef = colour ? new double[m] : null;
        double[] iDist = colour ? new double[m] : null;
        double[] qDist = colour ? new double[m] : null;
        subsampleYiq(reference, h, w, colour, yRef, iRef, qRef);
        subsampleYiq(distorted, h, w, colour, yDist, iDist, qDist);

        int iw = sw + 1;
        double[] sumRef = integral(yRef, sh, sw);
        double[] sumDist = integral(yDist, sh, sw);

        double num = 0;
        double den = 0;
        for (int r = 0; r < sh; r++) {
            for (int c = 0; c < sw; c++) {
                double simV = 0;
                double simH = 0;
                double weightV = 0;
                double weightH = 0;
                for (int j = 1; j <= SCALES; j++) {
                    int half = 1 << (j - 1);
                    double scale = 1.0 / (1 << j);
                    // vertical detail: rows r-half+1..r minus rows r+1..r+half, columns c-half+1..c+half
                    double aV = scale * (box(sumRef, iw, sh, sw, r - half + 1, r, c - half + 1, c + half)
                            - box(sumRef, iw, sh, sw, r + 1, r + half, c - half + 1, c + half));
                    double bV = scale * (box(sumDist, iw, sh, sw, r - half + 1, r, c - half + 1, c + half)
                            - box(sumDist, iw, sh, sw, r + 1, r + half, c - half + 1, c + half));
                    // horizontal detail: the transposed filter
                    double aH = scale * (box(sumRef, iw, sh, sw, r - half + 1, r + half, c - half + 1, c)
                            - box(sumRef, iw, sh, sw, r - half + 1, r + half, c + 1, c + half));
                    double bH = scale * (box(sumDist, iw, sh, sw, r - half + 1, r + half, c - half + 1, c)
                            - box(sumDist, iw, sh, sw, r - half + 1, r + half, c + 1, c + half));
                    if (j < SCALES) {
                        simV += similarity(Math.abs(aV), Math.abs(bV));
                        simH += similarity(Math.abs(aH), Math.abs(bH));
                    } else {
                        weightV = Math.max(Math.abs(aV), Math.abs(bV));
                        weightH = Math.max(Math.abs(aH), Math.abs(bH));
                    }
                }
                simV /= 2;
                simH /= 2;
                num += sigmoid(simV) * weightV + sigmoid(simH) * weightH;
                den += weightV + weightH;
                if (colour) {
                    double simC = (similarity(mean2x2(iRef, sh, sw, r, c), mean2x2(iDist, sh, sw, r, c))
                            + similarity(mean2x2(qRef, sh, sw, r, c), mean2x2(qDist, sh, sw, r, c))) / 2;
                    double weightC = (weightV + weightH) / 2;
                    num += sigmoid(simC) * weightC;
                    den += weightC;
                }
            }
        }
        double t = logit(num / den);
        return t * t;
    }

    private static double similarity(double a, double b) {
        return (2 * a * b + C) / (a * a + b * b + C);
    }

    private static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-ALPHA * x));
    }

    private static double logit(double p) {
        return Math.log(p / (1.0 - p)) / ALPHA;
    }

    /**
     * Y (and I, Q when colour) of the planar RGB (or grey) image, each 2x2-mean filtered with zero
     * padding beyond the last row/column and sampled at even rows and columns.
     */
    private static void subsampleYiq(float[] img, int h, int w, boolean colour, double[] y, double[] iq, double[] q) {
        int n = h * w;
        int sw = (w + 1) / 2;
        int sh = (h + 1) / 2;
        for (int r = 0; r < sh; r++) {
            for (int c = 0; c < sw; c++) {
                double ys = 0;
                double is = 0;
                double qs = 0;
                for (int dr = 0; dr < 2; dr++) {
                    int rr = 2 * r + dr;
                    if (rr >= h) {
                        continue;
                    }
                    for (int dc = 0; dc < 2; dc++) {
                        int cc = 2 * c + dc;
                        if (cc >= w) {
                            continue;
                        }
                        int i = rr * w + cc;
                        if (colour) {
                            double red = img[i];
                            double green = img[n + i];
                            double blue = img[2 * n + i];
                            ys += 0.299 * red + 0.587 * green + 0.114 * blue;
                            is += 0.596 * red - 0.274 * green - 0.322 * blue;
                            qs += 0.211 * red - 0.523 * green + 0.312 * blue;
                        } else {
                            ys += img[i];
                        }
                    }
                }
                int o = r * sw + c;
                y[o] = ys / 4;
                if (colour) {
                    iq[o] = is / 4;
                    q[o] = qs / 4;
                }
            }
        }
    }

    /** |2x2 mean| at (r, c) covering rows r, r+1 and columns c, c+1, zeros outside the image. */
    private static double mean2x2(double[] v, int h, int w, int r, int c) {
        double s = v[r * w + c];
        boolean down = r + 1 < h;
        boolean right = c + 1 < w;
        if (down) {
            s += v[(r + 1) * w + c];
        }
        if (right) {
            s += v[r * w + c + 1];
        }
        if (down && right) {
            s += v[(r + 1) * w + c + 1];
        }
        return Math.abs(s / 4);
    }

    /** Integral image, (h+1) x (w+1): entry (r, c) is the sum of v over rows &lt; r and columns &lt; c. */
    private static double[] integral(double[] v, int h, int w) {
        int iw = w + 1;
        double[] s = new double[(h + 1) * iw];
        for (int r = 0; r < h; r++) {
            double row = 0;
            for (int c = 0; c < w; c++) {
                row += v[r * w + c];
                s[(r + 1) * iw + c + 1] = s[r * iw + c + 1] + row;
            }
        }
        return s;
    }

    /** Sum over rows r0..r1 and columns c0..c1 (inclusive), clipped to the image: zero padding. */
    private static double box(double[] s, int iw, int h, int w, int r0, int r1, int c0, int c1) {
        r0 = Math.max(r0, 0);
        c0 = Math.max(c0, 0);
        r1 = Math.min(r1, h - 1);
        c1 = Math.min(c1, w - 1);
        if (r0 > r1 || c0 > c1) {
            return 0;
        }
        return s[(r1 + 1) * iw + c1 + 1] - s[r0 * iw + c1 + 1] - s[(r1 + 1) * iw + c0] + s[r0 * iw + c0];
    }
}
