package org.mipflow.sampling;

import java.util.random.RandomGenerator;

/**
 * One plain forward pass of the teacher at full resolution from t = 1 with a zero state, read
 * as x0 = x - v: the cheapest decode the network can do, and the mean of what a full-resolution
 * flow from t = 1 would aim at (bench's "forward", eval's "mean"). Draws no noise. Network calls
 * of a fixed row count, as in {@link Sampler}, so that a row's image does not depend on its batch.
 */
public final class TeacherOnePass implements ImageSampler {
    private final VelocityModel model;

    public TeacherOnePass(VelocityModel model) {
        this.model = model;
    }

    @Override
    public float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs, int rowsPerCall) {
        int[] side = model.latent().imageSize(zh, zw);
        int h = side[0];
        int w = side[1];
        float[] v = new NetworkCalls(model, rowsPerCall).velocity(new float[n * 3 * h * w], n, h, w, z, zh, zw, 1.0,
                model.scheduler().fullFlow(), false);
        for (int i = 0; i < v.length; i++) {
            v[i] = -v[i];
        }
        return v;
    }

    @Override
    public int forwardPasses() {
        return 1;
    }
}
