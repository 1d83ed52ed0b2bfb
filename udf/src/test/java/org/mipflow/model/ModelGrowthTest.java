package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.Parameter;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A model grown by encoder blocks or latent levels computes what it was grown from, with the real
 * DJL engine.
 */
class ModelGrowthTest {
    private static final ModelConfig TINY = ModelDirectoryTest.TINY;

    /** Every weight away from its initial value, so that no block is the identity by chance. */
    static void scramble(MipflowModel m) {
        SplittableRandom rng = new SplittableRandom(5);
        for (Parameter p : MipflowModel.parameters(m.encoder(), m.teacher())) {
            float[] v = p.getArray().toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (0.1 * rng.nextGaussian());
            }
            p.getArray().set(v);
        }
    }

    /** Two 32 x 32 images, a smooth pattern of frequency {@code f}. */
    private static float[] images(double f) {
        float[] img = new float[2 * 3 * 32 * 32];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) Math.sin(i * f);
        }
        return img;
    }

    @Test
    void aGrownModelEncodesAndDecodesAsBefore() {
        float[] img = images(0.21);
        try (MipflowModel from = MipflowModel.create(TINY, 3)) {
            scramble(from);
            float[] z = from.encode(img, 2, 32, 32);
            float[] v = from.velocity(img, 2, 32, 32, z, 4, 4, 0.6, 1, false);
            try (MipflowModel grown = MipflowModel.grownFrom(from, TINY.withEncoderBlocks(3), 7)) {
                assertEquals(3, grown.config().encoderBlocks());
                assertTrue(grown.parameterCount(grown.encoder()) > 2 * from.parameterCount(from.encoder()),
                        "two more blocks at each level");
                assertArrayEquals(z, grown.encode(img, 2, 32, 32), 1e-6f);
                assertArrayEquals(v, grown.velocity(img, 2, 32, 32, z, 4, 4, 0.6, 1, false));
            }
        }
    }

    @Test
    void latentLevelsStartAtZeroAndThenReachTheVelocity() {
        float[] img = images(0.17);
        try (MipflowModel from = MipflowModel.create(TINY, 3)) {
            scramble(from);
            float[] z = from.encode(img, 2, 32, 32);
            float[] v = from.velocity(img, 2, 32, 32, z, 4, 4, 0.6, 1, false);
            try (MipflowModel grown = MipflowModel.grownFrom(from, TINY.withLatentLevels(3), 7)) {
                assertEquals(3, grown.config().latentLevels());
                assertArrayEquals(v, grown.velocity(img, 2, 32, 32, z, 4, 4, 0.6, 1, false));
                // Each entry is wired in: once its convolution is off zero, the velocity moves.
                for (String entry : new String[] {"dec.z1.w", "dec.z2.w"}) {
                    Parameter p = grown.teacher().getParameters().get(entry);
                    float[] w = p.getArray().toFloatArray();
                    float[] nudged = w.clone();
                    nudged[0] += 0.5f;
                    p.getArray().set(nudged);
                    float[] moved = grown.velocity(img, 2, 32, 32, z, 4, 4, 0.6, 1, false);
                    assertTrue(maxDiff(v, moved) > 1e-4, entry + " does not reach the output");
                    p.getArray().set(w);
                }
            }
        }
    }

    private static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void onlyEncoderBlocksAndLatentLevelsMayGrow() {
        try (MipflowModel from = MipflowModel.create(TINY.withLatentLevels(2), 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MipflowModel.grownFrom(from, TINY, 3));
            assertTrue(e.getMessage().contains("latent levels (here from 2 to 1)"), e.getMessage());
        }
        try (MipflowModel from = MipflowModel.create(TINY.withEncoderBlocks(2), 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MipflowModel.grownFrom(from, TINY, 3));
            assertTrue(e.getMessage().contains("from 2 to 1"), e.getMessage());
            ModelConfig wider = new ModelConfig(4, 8, 16, 2, new int[] {8, 16, 32}, 1, 4, 16, TINY.schedule());
            assertThrows(IllegalArgumentException.class, () -> MipflowModel.grownFrom(from, wider, 3));
        }
    }
}
