package org.mipflow.metrics;

/** PSNR and SSIM of a decoded image against its reference, both on the 8-bit grid. */
public record ImageMetrics(double psnr, double ssim) {

    /**
     * @param decoded planar [3,h,w] in [-1,1] (quantised to 8 bits here, as the PNG will be)
     * @param reference planar [3,h,w] in [-1,1], from an 8-bit image
     */
    public static ImageMetrics of(float[] decoded, int offset, float[] reference, int h, int w) {
        var m = MetricSet.DEFAULT.score(decoded, offset, reference, h, w);
        return new ImageMetrics(m.get(Metric.PSNR.column()), m.get(Metric.SSIM.column()));
    }
}
