package org.mipflow.sampling;

import java.util.random.RandomGenerator;

/**
 * Latents to images, rows in one array: what {@link BatchDecoder} batches around. {@link Sampler}
 * is the one every decode mode runs; {@link TeacherOnePass} is the cost floor bench and eval
 * compare it with.
 */
public interface ImageSampler {
    /**
     * Decodes n latents [n,C,zh,zw] into images [n,3,zh*f,zw*f] in [-1,1] (not yet clamped).
     *
     * @param rngs one noise generator per row, the only source of its noise
     * @param rowsPerCall rows in every network call ({@link NetworkCalls}); an image's bytes depend on it
     */
    float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs, int rowsPerCall);

    /** Network evaluations per image. */
    int forwardPasses();
}
