package org.mipflow.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mipflow.metrics.Ssim;

/** Training's differentiable SSIM is the metric's SSIM, and its gradient moves an image towards the other. */
class SsimLossTest {
    private static final int ROWS = 2;
    private static final int SIDE = 40;

    /** Smooth pictures in [-1, 1] and noisy copies of them, so that SSIM sits well inside (0, 1). */
    private static float[][] pair(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = ROWS * 3 * SIDE * SIDE;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            int x = i % SIDE;
            int y = (i / SIDE) % SIDE;
            int plane = i / (SIDE * SIDE);
            a[i] = (float) (0.7 * Math.sin(0.2 * x + plane) * Math.cos(0.15 * y - plane));
            b[i] = (float) Math.max(-1, Math.min(1, a[i] + 0.3 * rng.nextGaussian()));
        }
        return new float[][] {a, b};
    }

    private static double metric(float[] a, float[] b, int row) {
        int px = 3 * SIDE * SIDE;
        float[] x = new float[px];
        float[] y = new float[px];
        for (int i = 0; i < px; i++) {
            x[i] = (a[row * px + i] + 1) / 2;
            y[i] = (b[row * px + i] + 1) / 2;
        }
        return Ssim.compute(x, y, 3, SIDE, SIDE, 1.0);
    }

    @Test
    void equalsTheMetricRowByRow() {
        float[][] p = pair(7);
        Shape shape = new Shape(ROWS, 3, SIDE, SIDE);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] got = SsimLoss.perRow(m, m.create(p[0], shape), m.create(p[1], shape)).toFloatArray();
            assertEquals(ROWS, got.length);
            for (int r = 0; r < ROWS; r++) {
                double want = metric(p[0], p[1], r);
                assertTrue(want > 0.2 && want < 0.9, "a pair with room either way: " + want);
                assertEquals(want, got[r], 1e-5, "row " + r);
            }
        }
    }

    @Test
    void itsGradientRaisesSsim() {
        float[][] p = pair(11);
        Shape shape = new Shape(ROWS, 3, SIDE, SIDE);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.create(p[0], shape);
            NDArray x = m.create(p[1], shape);
            x.setRequiresGradient(true);
            double before;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = SsimLoss.loss(m, x, target, true);
                before = 1 - loss.getFloat();
                gc.backward(loss);
            }
            // A step of at most 0.05 per pixel against the gradient.
            NDArray g = x.getGradient();
            float[] stepped = x.sub(g.div(g.abs().max()).mul(0.05f)).toFloatArray();
            double after = (metric(p[0], stepped, 0) + metric(p[0], stepped, 1)) / 2;
            assertTrue(after > before + 0.02, "SSIM " + before + " -> " + after);
        }
    }
}
