package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The TorchScript twin computes the native network: same weights (the shipped model's), same
 * inputs, every numeric path against the native fp32/nchw forward pass.
 */
class FlowUNetTwinTest {
    static final Path MODEL = Path.of("../models/default");
    static final int N = 2;
    static final int SIDE = 64;
    static MipflowModel reference;
    static float[] x;
    static float[] z;

    @BeforeAll
    static void load() {
        MipflowModel.configureThreads(2);
        reference = MipflowModel.load(MODEL);
        SplittableRandom r = new SplittableRandom(7);
        x = new float[N * 3 * SIDE * SIDE];
        z = new float[N * reference.latentChannels() * (SIDE / 8) * (SIDE / 8)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) r.nextGaussian();
        }
    }

    @AfterAll
    static void close() {
        reference.close();
    }

    private static float[] velocity(MipflowModel m, int stageType, boolean student) {
        int s = stageType < 3 ? SIDE >> (2 - stageType) : SIDE;
        float[] xs = java.util.Arrays.copyOf(x, N * 3 * s * s);
        return m.velocity(xs, N, s, s, z, SIDE / 8, SIDE / 8, 0.4, stageType, student);
    }

    /** Largest |a - b| relative to the largest |a|. */
    private static double relError(float[] a, float[] b) {
        double err = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            err = Math.max(err, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return err / scale;
    }

    @Test
    void fp32TwinMatchesTheNativeNetworkInBothLayouts() {
        for (NumericPath.Layout layout : NumericPath.Layout.values()) {
            NumericPath p = new NumericPath(NumericPath.Precision.FP32, layout);
            try (MipflowModel twin = MipflowModel.load(MODEL, Device.cpu(), p)) {
                assertEquals(p, twin.numerics());
                for (int stage : new int[] {0, 2, 3}) {
                    for (boolean student : new boolean[] {false, true}) {
                        double e = relError(velocity(reference, stage, student), velocity(twin, stage, student));
                        assertTrue(e < 1e-5, p + " stage " + stage + " student " + student + ": relative error " + e);
                    }
                }
            }
        }
    }

    @Test
    void bf16IsCloseToFp32AndRepeatsExactly() {
        NumericPath p = new NumericPath(NumericPath.Precision.BF16, NumericPath.Layout.NHWC);
        try (MipflowModel twin = MipflowModel.load(MODEL, Device.cpu(), p)) {
            float[] ref = velocity(reference, 3, false);
            float[] a = velocity(twin, 3, false);
            double e = relError(ref, a);
            // bfloat16 keeps 8 significant bits: a few percent at the worst pixel, not more.
            assertTrue(e > 0 && e < 0.1, "bf16 relative error " + e);
            assertArrayEquals(a, velocity(twin, 3, false), "bf16 forward differs between two identical calls");
        }
    }
}
