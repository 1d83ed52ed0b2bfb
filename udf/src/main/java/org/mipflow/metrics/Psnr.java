package org.mipflow.metrics;

/** Peak signal-to-noise ratio over all samples of two equally shaped images. */
public final class Psnr {
    private Psnr() {}

    /** PSNR in dB; +infinity for identical inputs. */
    public static double compute(float[] a, float[] b, double dataRange) {
        if (a.length != b.length || a.length == 0) {
            throw new IllegalArgumentException("PSNR needs two non-empty images of the same size");
        }
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            se += d * d;
        }
        double mse = se / a.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(dataRange * dataRange / mse);
    }
}
