package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How precision, layout and batch size are chosen: plain values, no engine. */
class NumericChoiceTest {
    private static final NumericPath BF16_NHWC = new NumericPath(NumericPath.Precision.BF16, NumericPath.Layout.NHWC);

    @Test
    void autoFollowsTheDeviceAndExplicitChoicesWin() {
        assertEquals(BF16_NHWC, NumericPath.Request.AUTO.resolve(true));
        assertEquals(NumericPath.NATIVE, NumericPath.Request.AUTO.resolve(false));
        assertEquals(NumericPath.NATIVE, new NumericPath.Request("fp32", "auto").resolve(true));
        assertEquals("bf16/nhwc", new NumericPath.Request("bf16", "auto").resolve(false).label());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NumericPath.Request("bf16", "nchw").resolve(true));
        assertTrue(e.getMessage().startsWith("bf16 runs channels-last only"), e.getMessage());
        assertEquals("fp32/nhwc", new NumericPath.Request("fp32", "nhwc").resolve(true).label());
        assertTrue(NumericPath.NATIVE.isNative());
        assertFalse(BF16_NHWC.isNative());
    }

    @Test
    void unknownValuesAreRefusedWithTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NumericPath.Request("fp16", "auto"));
        assertEquals("precision 'fp16' is not one of auto, fp32, bf16", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NumericPath.Request("auto", "NHWC"));
    }

    @Test
    void bf16SupportFromCpuFlagsAndComputeCapability() {
        assertTrue(Bf16Support.cpu("fpu sse2 avx512f avx512_bf16 avx512vl").supported());
        assertEquals("CPU has amx_bf16", Bf16Support.cpu(" avx512f amx_tile amx_bf16 amx_int8").reason());
        assertFalse(Bf16Support.cpu("fpu sse2 avx2 avx512f avx512_bf16x").supported());
        assertFalse(Bf16Support.cpu("").supported());
        assertTrue(Bf16Support.gpuSupports("80"));
        assertTrue(Bf16Support.gpuSupports("90"));
        assertFalse(Bf16Support.gpuSupports("75"));
        assertFalse(Bf16Support.gpuSupports("unknown"));
    }

    @Test
    void batchFillsTheBudgetWithinItsBounds() {
        BatchBudget b = new BatchBudget(64L << 20, 16);
        assertEquals(2, b.batchFor(24L << 20));
        assertEquals(1, b.batchFor(210L << 20), "an image larger than the budget still decodes, alone");
        assertEquals(16, b.batchFor(1 << 10), "capped at maxBatch");
        assertThrows(IllegalArgumentException.class, () -> new BatchBudget(0, 4));
    }

    @Test
    void perImageEstimateScalesWithPixelsWidthAndPrecision() {
        long native256 = BatchBudget.nativeBytesPerImage(32, NumericPath.NATIVE, 256, 256);
        long fp32Twin = BatchBudget.nativeBytesPerImage(32, new NumericPath(NumericPath.Precision.FP32,
                NumericPath.Layout.NHWC), 256, 256);
        long bf16Twin = BatchBudget.nativeBytesPerImage(32, BF16_NHWC, 256, 256);
        assertEquals(25L * 32 * 256 * 256 * 4, native256);
        assertEquals(2 * bf16Twin, fp32Twin);
        assertEquals(4 * BatchBudget.nativeBytesPerImage(32, BF16_NHWC, 128, 128), bf16Twin);
        assertEquals(2 * bf16Twin, BatchBudget.nativeBytesPerImage(64, BF16_NHWC, 256, 256));
    }
}
