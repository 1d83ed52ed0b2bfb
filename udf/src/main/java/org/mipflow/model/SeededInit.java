package org.mipflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.Initializer;
import java.util.SplittableRandom;

/**
 * Uniform initialisation with variance scale/fan_in, drawn from a Java generator seeded by
 * (run seed, parameter name) so that a fixed seed gives the same network on any engine build.
 */
final class SeededInit implements Initializer {
    private final long seed;
    private final double scale;

    SeededInit(long seed, double scale) {
        this.seed = seed;
        this.scale = scale;
    }

    static SeededInit zeros() {
        return new SeededInit(0, 0);
    }

    static SeededInit ones() {
        return new SeededInit(0, Double.NaN);
    }

    @Override
    public NDArray initialize(NDManager manager, Shape shape, DataType dataType) {
        int n = (int) shape.size();
        float[] v = new float[n];
        if (Double.isNaN(scale)) {
            java.util.Arrays.fill(v, 1f);
        } else if (scale != 0) {
            long fanIn = shape.dimension() > 1 ? shape.size() / shape.get(0) : shape.size();
            double bound = Math.sqrt(3.0 * scale / fanIn);
            SplittableRandom rng = new SplittableRandom(seed);
            for (int i = 0; i < n; i++) {
                v[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
            }
        }
        return manager.create(v, shape).toType(dataType, false);
    }
}
