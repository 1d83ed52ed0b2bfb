package org.mipflow.metrics;

import org.mipflow.io.ImageOps;

/** PSNR and SSIM of a decoded image against its reference, both on the 8-bit grid. */
public record ImageMetrics(double psnr, double ssim) {

    /**
     * @param decoded planar [3,h,w] in [-1,1] (quantised to 8 bits here, as the PNG will be)
     * @param reference planar [3,h,w] in [-1,1], from an 8-bit image
     */
    public static ImageMetrics of(float[] decoded, int offset, float[] reference, int h, int w) {
        int n = 3 * h * w;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = ImageOps.toByte(decoded[offset + i]);
            b[i] = ImageOps.toByte(reference[i]);
        }
        return new ImageMetrics(Psnr.compute(a, b, 255), Ssim.compute(a, b, 3, h, w, 255));
    }
}
