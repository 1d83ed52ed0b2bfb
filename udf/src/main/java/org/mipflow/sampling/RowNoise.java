package org.mipflow.sampling;

import java.nio.charset.StandardCharsets;
import java.util.random.RandomGenerator;

/**
 * The noise generator of one image, seeded from (global seed, row id) only, so an image's bytes
 * do not depend on partitioning, batch size, task retries or executor count.
 *
 * <p>The stream is specified exactly so that it can be regenerated outside the JVM (the
 * TorchScript fixture script does so in Python to check the samplers against PyTorch):
 * <ul>
 *   <li>state = FNV-1a-64 of the id's UTF-8 bytes, with offset basis 0xcbf29ce484222325 ^ seed,
 *       then xor seed * 0x9E3779B97F4A7C15;</li>
 *   <li>each long is SplitMix64: state += 0x9E3779B97F4A7C15, then the usual two multiply-xorshift rounds;</li>
 *   <li>each Gaussian takes two longs u1, u2 -> ((l >>> 11) + 0.5) * 2^-53 and returns
 *       sqrt(-2 ln u1) cos(2 pi u2) (Box-Muller, one value per pair).</li>
 * </ul>
 * StrictMath keeps the values bit-identical on every JVM and CPU, which Math's intrinsics do not promise.
 */
public final class RowNoise implements RandomGenerator {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final double TWO_POW_M53 = 0x1.0p-53;

    private long state;

    private RowNoise(long state) {
        this.state = state;
    }

    public static RandomGenerator forRow(long seed, String id) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return new RowNoise(h ^ (seed * GOLDEN));
    }

    @Override
    public long nextLong() {
        long z = (state += GOLDEN);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public double nextGaussian() {
        double u1 = ((nextLong() >>> 11) + 0.5) * TWO_POW_M53;
        double u2 = ((nextLong() >>> 11) + 0.5) * TWO_POW_M53;
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2.0 * Math.PI * u2);
    }
}
