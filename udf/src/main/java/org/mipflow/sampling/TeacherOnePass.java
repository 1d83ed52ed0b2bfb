package org.mipflow.sampling;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * One plain forward pass of the teacher at full resolution from t = 1 with a zero state, read
 * as x0 = x - v: the cheapest decode the network can do, and the mean of what a full-resolution
 * flow from t = 1 would aim at (bench's "forward", eval's "mean"). Draws no noise. One row per
 * network call, as in {@link Sampler}, so that a row's image does not depend on its batch.
 */
public final class TeacherOnePass implements ImageSampler {
    private final VelocityModel model;

    public TeacherOnePass(VelocityModel model) {
        this.model = model;
    }

    @Override
    public float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs) {
        int[] side = model.latent().imageSize(zh, zw);
        int h = side[0];
        int w = side[1];
        int per = 3 * h * w;
        int zper = z.length / n;
        float[] out = new float[n * per];
        float[] zero = new float[per];
        for (int r = 0; r < n; r++) {
            float[] v = model.velocity(zero, 1, h, w, Arrays.copyOfRange(z, r * zper, (r + 1) * zper), zh, zw, 1.0,
                    model.scheduler().fullFlow(), false);
            for (int i = 0; i < per; i++) {
                out[r * per + i] = -v[i];
            }
        }
        return out;
    }

    @Override
    public int forwardPasses() {
        return 1;
    }
}
