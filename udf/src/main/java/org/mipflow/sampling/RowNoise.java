package org.mipflow.sampling;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/**
 * The noise generator of one image, seeded from (global seed, row id) only, so an image's bytes
 * do not depend on partitioning, batch size, task retries or executor count.
 */
public final class RowNoise {
    private RowNoise() {}

    public static RandomGenerator forRow(long seed, String id) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return new SplittableRandom(h ^ (seed * 0x9E3779B97F4A7C15L));
    }
}
