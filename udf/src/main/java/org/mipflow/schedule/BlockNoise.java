package org.mipflow.schedule;

import java.util.random.RandomGenerator;

/**
 * The renoising term n' of a stage jump: Gaussian noise that is correlated inside each 2x2
 * block with covariance (1 + gamma) I - gamma J.
 *
 * <p>Why that sign: after nearest upsampling the carried-over noise e * up(eps) is perfectly
 * correlated inside each block (covariance e^2 a^2 J). A training stage start has independent
 * per-pixel noise, so the added noise must cancel that correlation; with the jump coefficients
 * of {@link StageSchedule} this needs an off-diagonal covariance of -gamma (the seed code's
 * +gamma would double it instead). {@code BlockNoiseTest} checks the resulting statistics.
 *
 * <p>Construction: w ~ N(0, I) on the 4 pixels, m its block mean, n' = sqrt(1+gamma) (w + beta m)
 * with (1 + beta)^2 = (1 - 3 gamma) / (1 + gamma). A decoder trained with the other sign (the
 * method's authors' code: (1 - gamma) I + gamma J) gets it from the same draws through
 * {@link #fill(float[], int, int, int, double, double, RandomGenerator)} with correlation +gamma.
 */
public final class BlockNoise {
    private BlockNoise() {}

    /** Fills {@code out} (planes of h x w, both even, any number of planes) with block noise. */
    public static void fill(float[] out, int planes, int h, int w, double gamma, RandomGenerator rng) {
        fill(out, planes, h, w, gamma, -gamma, rng);
    }

    /**
     * Block noise with covariance (1 - c) I + c J, c = {@code correlation} in [-1/3, 1/3]: n' =
     * sqrt(1 - c) (w + beta m) with (1 + beta)^2 = (1 + 3c) / (1 - c), from the same four draws
     * per block in the same order.
     */
    public static void fill(float[] out, int planes, int h, int w, double gamma, double correlation,
            RandomGenerator rng) {
        if (Math.abs(Math.abs(correlation) - gamma) > 1e-15) {
            throw new IllegalArgumentException("the correlation is +gamma or -gamma, got " + correlation);
        }
        if (h % 2 != 0 || w % 2 != 0) {
            throw new IllegalArgumentException("block noise needs even sides, got " + h + "x" + w);
        }
        if (out.length != (long) planes * h * w) {
            throw new IllegalArgumentException("buffer length does not match planes*h*w");
        }
        double scale = Math.sqrt(1.0 - correlation);
        double beta = Math.sqrt(Math.max(0.0, (1.0 + 3.0 * correlation) / (1.0 - correlation))) - 1.0;
        for (int p = 0; p < planes; p++) {
            int base = p * h * w;
            for (int y = 0; y < h; y += 2) {
                for (int x = 0; x < w; x += 2) {
                    int i00 = base + y * w + x;
                    int i01 = i00 + 1;
                    int i10 = i00 + w;
                    int i11 = i10 + 1;
                    double a = rng.nextGaussian();
                    double b = rng.nextGaussian();
                    double c = rng.nextGaussian();
                    double d = rng.nextGaussian();
                    double m = beta * (a + b + c + d) / 4.0;
                    out[i00] = (float) (scale * (a + m));
                    out[i01] = (float) (scale * (b + m));
                    out[i10] = (float) (scale * (c + m));
                    out[i11] = (float) (scale * (d + m));
                }
            }
        }
    }
}
