package org.mipflow.metrics;

/**
 * Structural similarity (Wang et al. 2004) with an 11x11 Gaussian window, sigma 1.5, K1 = 0.01,
 * K2 = 0.03, population (not sample) covariances.
 *
 * <p>Colour handling: SSIM is computed on each RGB plane separately and the three means are
 * averaged, the convention of scikit-image's {@code structural_similarity(..., channel_axis=2,
 * gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)}. As there,
 * the window is applied with symmetric (half-sample) reflection at the borders and the map is
 * averaged after cropping 5 pixels from each border. {@code SsimTest} checks it against values
 * made that way.
 */
public final class Ssim {
    private static final int RADIUS = 5;
    private static final double SIGMA = 1.5;
    private static final double[] KERNEL = kernel();

    private Ssim() {}

    /**
     * The normalised 1-D Gaussian window (11 taps, sigma 1.5) whose outer product is the SSIM
     * window; training's differentiable SSIM uses the same one so that it optimises this metric.
     */
    public static double[] window() {
        return KERNEL.clone();
    }

    private static double[] kernel() {
        double[] k = new double[2 * RADIUS + 1];
        double sum = 0;
        for (int i = -RADIUS; i <= RADIUS; i++) {
            k[i + RADIUS] = Math.exp(-0.5 * i * i / (SIGMA * SIGMA));
            sum += k[i + RADIUS];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** Mean SSIM of planar images [planes,h,w]; values in [0, dataRange]. */
    public static double compute(float[] a, float[] b, int planes, int h, int w, double dataRange) {
        double total = 0;
        for (int p = 0; p < planes; p++) {
            total += plane(a, b, p * h * w, h, w, dataRange);
        }
        return total / planes;
    }

    /** SSIM map of one plane, cropped as scikit-image does; exposed for MS-SSIM and heat maps. */
    static double plane(float[] a, float[] b, int off, int h, int w, double dataRange) {
        if (h <= 2 * RADIUS || w <= 2 * RADIUS) {
            throw new IllegalArgumentException("SSIM needs images larger than " + (2 * RADIUS + 1) + " px");
        }
        int n = h * w;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = a[off + i];
            y[i] = b[off + i];
        }
        double[] xx = new double[n];
        double[] yy = new double[n];
        double[] xy = new double[n];
        for (int i = 0; i < n; i++) {
            xx[i] = x[i] * x[i];
            yy[i] = y[i] * y[i];
            xy[i] = x[i] * y[i];
        }
        double[] mx = blur(x, h, w);
        double[] my = blur(y, h, w);
        double[] mxx = blur(xx, h, w);
        double[] myy = blur(yy, h, w);
        double[] mxy = blur(xy, h, w);
        double c1 = Math.pow(0.01 * dataRange, 2);
        double c2 = Math.pow(0.03 * dataRange, 2);
        double sum = 0;
        int count = 0;
        for (int r = RADIUS; r < h - RADIUS; r++) {
            for (int c = RADIUS; c < w - RADIUS; c++) {
                int i = r * w + c;
                double vx = mxx[i] - mx[i] * mx[i];
                double vy = myy[i] - my[i] * my[i];
                double cxy = mxy[i] - mx[i] * my[i];
                double s = ((2 * mx[i] * my[i] + c1) * (2 * cxy + c2))
                        / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2));
                sum += s;
                count++;
            }
        }
        return sum / count;
    }

    /**
     * Separable Gaussian blur with reflected borders. Interior pixels are summed tap by tap over
     * whole rows (a loop the JIT vectorises), borders through the reflection; either way each
     * pixel adds its taps in the same order from zero, so the values do not depend on the split.
     */
    static double[] blur(double[] src, int h, int w) {
        double[] tmp = new double[h * w];
        for (int r = 0; r < h; r++) {
            int row = r * w;
            for (int k = 0; k <= 2 * RADIUS; k++) {
                double kk = KERNEL[k];
                int from = row + k - RADIUS;
                for (int c = RADIUS; c < w - RADIUS; c++) {
                    tmp[row + c] += kk * src[from + c];
                }
            }
            for (int c = 0; c < w; c++) {
                if (c < RADIUS || c >= w - RADIUS) {
                    double acc = 0;
                    for (int k = -RADIUS; k <= RADIUS; k++) {
                        acc += KERNEL[k + RADIUS] * src[row + reflect(c + k, w)];
                    }
                    tmp[row + c] = acc;
                }
            }
        }
        double[] out = new double[h * w];
        for (int r = 0; r < h; r++) {
            int row = r * w;
            if (r >= RADIUS && r < h - RADIUS) {
                for (int k = 0; k <= 2 * RADIUS; k++) {
                    double kk = KERNEL[k];
                    int from = (r - RADIUS + k) * w;
                    for (int c = 0; c < w; c++) {
                        out[row + c] += kk * tmp[from + c];
                    }
                }
            } else {
                for (int c = 0; c < w; c++) {
                    double acc = 0;
                    for (int k = -RADIUS; k <= RADIUS; k++) {
                        acc += KERNEL[k + RADIUS] * tmp[reflect(r + k, h) * w + c];
                    }
                    out[row + c] = acc;
                }
            }
        }
        return out;
    }

    /** scipy.ndimage 'reflect' mode: d c b a | a b c d | d c b a. */
    private static int reflect(int i, int n) {
        while (i < 0 || i >= n) {
            i = i < 0 ? -i - 1 : 2 * n - i - 1;
        }
        return i;
    }
}
