package org.mipflow.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.mipflow.schedule.StageSchedule;

/**
 * The Java memory a task batch holds while it samples: the count the README's executor memory
 * per task comes from, and a guided decode that allocates nothing state-sized per step beyond
 * what the network returns, with the bytes of the former per-step copies.
 */
class TaskMemoryTest {
    static final int C = 4;

    /** A guided model whose velocity is cheap and depends on every input: x, z, t. */
    static final class Guided implements VelocityModel {
        long returnedBytes;

        @Override
        public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
                boolean student) {
            int per = 3 * h * w;
            int zper = z.length / n;
            float[] v = new float[n * per];
            for (int r = 0; r < n; r++) {
                float zr = z[r * zper] + 0.5f * z[r * zper + zper - 1];
                for (int j = 0; j < per; j++) {
                    v[r * per + j] = (float) (0.3 * x[r * per + j] - zr * t + 0.01 * (j % 7));
                }
            }
            returnedBytes += 4L * v.length;
            return v;
        }

        @Override
        public Guidance guidance() {
            float[] nul = new float[C * 4 * 4];
            java.util.Arrays.fill(nul, -0.25f);
            return new Guidance(nul, 2.0, 0.0, 1.0);
        }

        @Override
        public StageSchedule schedule() {
            return StageSchedule.DEFAULT;
        }

        @Override
        public int latentChannels() {
            return C;
        }

        @Override
        public int downsample() {
            return 8;
        }

        @Override
        public boolean hasStudent() {
            return false;
        }
    }

    @Test
    void executorMemoryPerTaskForTheReadmeFigure() {
        // N = B = 256 images of 256 x 256, latents 4 x 32 x 32, guided: 832 MiB of float arrays
        long bytes = NetworkCalls.taskBytes(256, 256, 256, 256, 4 * 32 * 32, true);
        long per = 3L * 256 * 256;
        long zper = 4 * 32 * 32;
        long expected = 4 * (256 * zper + 256 * per + 2 * 256 * zper + 256 * per + 256 * per + 256 * zper + 256 * per
                + 256 * per / 4);
        assertEquals(expected, bytes);
        assertEquals(832L << 20, bytes);
        // unguided: the null conditions' copy is not made
        assertEquals(bytes - 4 * 2 * 256 * zper, NetworkCalls.taskBytes(256, 256, 256, 256, 4 * 32 * 32, false));
    }

    private static RandomGenerator[] rngs(int n) {
        RandomGenerator[] g = new RandomGenerator[n];
        for (int i = 0; i < n; i++) {
            g[i] = RowNoise.forRow(3, "row-" + i);
        }
        return g;
    }

    /** The guided velocity as it was computed before: both halves' states copied, all 2n velocities held. */
    private static float[] copiedGuided(VelocityModel m, float[] x, int n, int h, int w, float[] zPair, int zh, int zw,
            double t, int rows, float scale) {
        int per = x.length;
        float[] x2 = java.util.Arrays.copyOf(x, 2 * per);
        System.arraycopy(x, 0, x2, per, per);
        float[] v2 = new float[2 * per];
        int one = 3 * h * w;
        int zper = zPair.length / (2 * n);
        for (int first = 0; first < 2 * n; first += rows) {
            int real = Math.min(rows, 2 * n - first);
            float[] xc = new float[rows * one];
            float[] zc = new float[rows * zper];
            System.arraycopy(x2, first * one, xc, 0, real * one);
            System.arraycopy(zPair, first * zper, zc, 0, real * zper);
            for (int pad = real; pad < rows; pad++) {
                System.arraycopy(xc, (real - 1) * one, xc, pad * one, one);
                System.arraycopy(zc, (real - 1) * zper, zc, pad * zper, zper);
            }
            System.arraycopy(m.velocity(xc, rows, h, w, zc, zh, zw, t, 3, false), 0, v2, first * one, real * one);
        }
        float[] v = new float[per];
        for (int j = 0; j < per; j++) {
            v[j] = v2[per + j] + scale * (v2[j] - v2[per + j]);
        }
        return v;
    }

    @Test
    void guidedStepsCopyNoStateAndKeepTheBytes() {
        int n = 8;
        int rows = 3; // 16 rows a step: five full calls and one padded
        int zh = 4;
        int h = 32;
        Guided m = new Guided();
        float[] z = new float[n * C * zh * zh];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) Math.sin(i * 0.37);
        }
        float[] x = new float[n * 3 * h * h];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.cos(i * 0.11);
        }
        float[] zPair = java.util.Arrays.copyOf(z, 2 * z.length);
        for (int i = z.length; i < zPair.length; i++) {
            zPair[i] = -0.25f;
        }
        NetworkCalls calls = new NetworkCalls(m, rows);
        float[] fused = calls.guided(x, n, h, h, zPair, zh, zh, 0.6, 3, false, 2f);
        assertArrayEquals(copiedGuided(m, x, n, h, h, zPair, zh, zh, 0.6, rows, 2f), fused, "same floats");
        assertTrue(fused == calls.guided(x, n, h, h, zPair, zh, zh, 0.4, 3, false, 2f), "the step's buffer is reused");

        // A whole guided decode: what it allocates beyond the network's returned velocities is the
        // task's buffers (and the per-row noise), not a copy of the state per step.
        Sampler sampler = new Sampler(m, new SamplerConfig(SamplingMode.FULL, 20, new int[] {1, 1, 1}).withCfgScale(2));
        sampler.decode(z, n, zh, zh, rngs(n), rows); // class loading and JIT out of the count
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        m.returnedBytes = 0;
        long before = mx.getThreadAllocatedBytes(tid);
        sampler.decode(z, n, zh, zh, rngs(n), rows);
        long allocated = mx.getThreadAllocatedBytes(tid) - before - m.returnedBytes;
        long buffers = NetworkCalls.taskBytes(n, rows, h, h, C * zh * zh, true);
        long stateCopyPerStep = 4L * 5 * n * 3 * h * h; // x2, the 2n velocities and v, as each step made them
        assertTrue(allocated < buffers + 64 * 1024,
                "allocated " + allocated + " bytes beyond the network's output; the task's buffers are " + buffers);
        assertTrue(20 * stateCopyPerStep > 4 * allocated, "the former per-step copies were " + 20 * stateCopyPerStep);
    }
}
