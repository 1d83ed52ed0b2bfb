package org.mipflow.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The renoised start of a stage must have the statistics of a training stage start: per-pixel
 * noise variance s_k^2 and no correlation inside 2x2 blocks (docs/METHOD.md section 3.4: the sign
 * of the block-noise correlation is checked numerically, not taken on trust).
 */
class BlockNoiseTest {

    @Test
    void theAuthorsSignGivesCovarianceOneMinusGammaIPlusGammaJ() {
        double gamma = 0.25;
        int h = 64;
        int w = 64;
        float[] n = new float[h * w];
        float[] same = new float[h * w];
        SplittableRandom rng = new SplittableRandom(1);
        double var = 0;
        double cov = 0;
        double diag = 0;
        int blocks = 0;
        for (int rep = 0; rep < 50; rep++) {
            BlockNoise.fill(n, 1, h, w, gamma, gamma, rng);
            for (int y = 0; y < h; y += 2) {
                for (int x = 0; x < w; x += 2) {
                    double a = n[y * w + x];
                    var += a * a;
                    cov += a * n[y * w + x + 1];
                    diag += a * n[(y + 1) * w + x + 1];
                    blocks++;
                }
            }
        }
        assertEquals(1.0, var / blocks, 0.03);
        assertEquals(gamma, cov / blocks, 0.03);
        assertEquals(gamma, diag / blocks, 0.03);
        // The negative sign through the general method draws exactly what the default does.
        BlockNoise.fill(n, 1, h, w, gamma, new SplittableRandom(5));
        BlockNoise.fill(same, 1, h, w, gamma, -gamma, new SplittableRandom(5));
        org.junit.jupiter.api.Assertions.assertArrayEquals(n, same);
    }

    @Test
    void blockNoiseHasTheIntendedCovariance() {
        double gamma = 0.25;
        int h = 64;
        int w = 64;
        float[] n = new float[h * w];
        SplittableRandom rng = new SplittableRandom(1);
        double var = 0;
        double cov = 0;
        int blocks = 0;
        for (int rep = 0; rep < 50; rep++) {
            BlockNoise.fill(n, 1, h, w, gamma, rng);
            for (int y = 0; y < h; y += 2) {
                for (int x = 0; x < w; x += 2) {
                    double a = n[y * w + x];
                    double b = n[y * w + x + 1];
                    var += a * a;
                    cov += a * b;
                    blocks++;
                }
            }
        }
        assertEquals(1.0, var / blocks, 0.03);
        assertEquals(-gamma, cov / blocks, 0.03);
    }

    @Test
    void jumpedStateMatchesATrainingStart() {
        StageSchedule s = StageSchedule.DEFAULT;
        SplittableRandom rng = new SplittableRandom(2);
        for (int k = 1; k < s.stages(); k++) {
            int h = 32;
            int w = 32;
            double e = s.end(k - 1);
            // End of stage k-1 for a zero image: e * eps.
            float[] end = new float[h * w];
            double var = 0;
            double cov = 0;
            double mean = 0;
            int samples = 0;
            for (int rep = 0; rep < 200; rep++) {
                for (int i = 0; i < end.length; i++) {
                    end[i] = (float) (e * rng.nextGaussian());
                }
                float[] up = Resample.nearestUp2(end, 1, h, w);
                float[] noise = new float[up.length];
                BlockNoise.fill(noise, 1, 2 * h, 2 * w, s.gamma(), rng);
                double a = s.jumpScale(k);
                double b = s.jumpNoise(k);
                for (int y = 0; y < 2 * h; y += 2) {
                    for (int x = 0; x < 2 * w; x += 2) {
                        int i = y * 2 * w + x;
                        double p = a * up[i] + b * noise[i];
                        double q = a * up[i + 2 * w + 1] + b * noise[i + 2 * w + 1];
                        mean += p;
                        var += p * p;
                        cov += p * q;
                        samples++;
                    }
                }
            }
            double sk = s.start(k);
            assertEquals(0.0, mean / samples, 0.01, "mean, stage " + k);
            assertEquals(sk * sk, var / samples, 0.02 * sk * sk + 0.005, "variance, stage " + k);
            assertEquals(0.0, cov / samples, 0.01, "in-block covariance, stage " + k);
        }
    }
}
