package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.Parameter;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A model grown by latent channels, encoder blocks or latent levels computes what it was grown
 * from, with the real DJL engine.
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

    @Test
    void addedLatentChannelsCarryASignalTheDecoderStartsOutIgnoring() {
        float[] img = images(0.19);
        int c = TINY.latentChannels();
        int cells = 4 * 4;
        try (MipflowModel from = MipflowModel.create(TINY.withLatentLevels(2), 3)) {
            scramble(from);
            float[] z = from.encode(img, 2, 32, 32);
            float[] v = from.velocity(img, 2, 32, 32, z, 4, 4, 0.6, 1, false);
            ModelConfig wider = TINY.withLatentLevels(2).withLatentChannels(c + 3);
            try (MipflowModel grown = MipflowModel.grownFrom(from, wider, 7)) {
                float[] zg = grown.encode(img, 2, 32, 32);
                assertEquals(2 * (c + 3) * cells, zg.length);
                float[] added = new float[2 * 3 * cells];
                for (int n = 0; n < 2; n++) {
                    // The old channels come first in each image's block, as they were.
                    assertArrayEquals(Arrays.copyOfRange(z, n * c * cells, (n + 1) * c * cells),
                            Arrays.copyOfRange(zg, n * (c + 3) * cells, (n * (c + 3) + c) * cells), 1e-6f);
                    System.arraycopy(zg, (n * (c + 3) + c) * cells, added, n * 3 * cells, 3 * cells);
                }
                assertTrue(maxDiff(added, new float[added.length]) > 1e-3, "the added channels carry a signal");
                // Whatever the added channels hold, the decoder ignores them until it learns to read them.
                assertArrayEquals(v, grown.velocity(img, 2, 32, 32, zg, 4, 4, 0.6, 1, false), 1e-6f);
                for (String reader : new String[] {"dec.in.w", "dec.z1.w"}) {
                    Parameter p = grown.teacher().getParameters().get(reader);
                    float[] w = p.getArray().toFloatArray();
                    long[] shape = p.getArray().getShape().getShape();
                    long perInput = shape[2] * shape[3];
                    int firstAdded = (int) ((shape[1] - 1) * perInput); // output 0, the last input: an added channel
                    assertEquals(0f, w[firstAdded], reader + " starts at zero on the added channels");
                    float[] nudged = w.clone();
                    nudged[firstAdded + (int) perInput / 2] += 0.5f;
                    p.getArray().set(nudged);
                    float[] moved = grown.velocity(img, 2, 32, 32, zg, 4, 4, 0.6, 1, false);
                    assertTrue(maxDiff(v, moved) > 1e-4, reader + " does not read the added channels");
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
    void onlyLatentChannelsEncoderBlocksAndLatentLevelsMayGrow() {
        try (MipflowModel from = MipflowModel.create(TINY.withLatentLevels(2), 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MipflowModel.grownFrom(from, TINY, 3));
            assertTrue(e.getMessage().contains("latent levels (here from 2 to 1)"), e.getMessage());
        }
        try (MipflowModel from = MipflowModel.create(TINY, 3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MipflowModel.grownFrom(from, TINY.withLatentChannels(TINY.latentChannels() - 1), 3));
            assertTrue(e.getMessage().contains("latent channels (here from " + TINY.latentChannels()), e.getMessage());
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
