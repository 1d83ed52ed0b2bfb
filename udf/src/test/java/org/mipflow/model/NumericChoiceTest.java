package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How precision and layout are chosen, and what a row costs: plain values, no engine. */
class NumericChoiceTest {
    private static final NumericPath BF16_NHWC = new NumericPath(NumericPath.Precision.BF16, NumericPath.Layout.NHWC);

    @Test
    void autoFollowsTheDeviceAndExplicitChoicesWin() {
        assertEquals(BF16_NHWC, NumericPath.Request.AUTO.resolve(true));
        // without native bf16, auto is fp32 channels-last: the fastest path there (issue 24)
        assertEquals("fp32/nhwc", NumericPath.Request.AUTO.resolve(false).label());
        assertEquals("fp32/nhwc", new NumericPath.Request("fp32", "auto").resolve(true).label());
        assertEquals("bf16/nhwc", new NumericPath.Request("bf16", "auto").resolve(false).label());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new NumericPath.Request("bf16", "nchw").resolve(true));
        assertTrue(e.getMessage().startsWith("bf16 runs channels-last only"), e.getMessage());
        assertEquals("fp32/nhwc", new NumericPath.Request("fp32", "nhwc").resolve(true).label());
        assertEquals(NumericPath.NATIVE, new NumericPath.Request("auto", "nchw").resolve(true),
                "auto precision with an explicit NCHW layout is fp32: bf16 runs channels-last only");
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
    void cpuInfoIsReadFromTheFirstProcessorsBlock() {
        Bf16Support.Cpu cpu = Bf16Support.Cpu.parse(java.util.List.of(
                "processor\t: 0", "vendor_id\t: AuthenticAMD", "cpu family\t: 26", "model\t\t: 2",
                "model name\t: AMD EPYC 9R45", "flags\t\t: fpu avx2 avx512f avx512_bf16", "",
                "processor\t: 1", "model name\t: other", "flags\t\t: fpu amx_bf16"));
        assertEquals("AMD EPYC 9R45 (family 26, model 2): avx512_bf16 yes, amx_bf16 no", cpu.describe());
        assertTrue(Bf16Support.cpu(cpu.flags()).supported());
        assertFalse(cpu.has("avx512"));
        assertEquals("unknown (family ?, model ?): avx512_bf16 no, amx_bf16 no",
                Bf16Support.Cpu.parse(java.util.List.of()).describe());
    }

    @Test
    void perRowEstimateScalesWithPixelsWidthAndPrecision() {
        long native256 = RowBytes.nativeNetwork(32, NumericPath.NATIVE, 256, 256);
        long fp32Twin = RowBytes.nativeNetwork(32, new NumericPath(NumericPath.Precision.FP32,
                NumericPath.Layout.NHWC), 256, 256);
        long bf16Twin = RowBytes.nativeNetwork(32, BF16_NHWC, 256, 256);
        assertEquals(25L * 32 * 256 * 256 * 4, native256);
        assertEquals(2 * bf16Twin, fp32Twin);
        assertEquals(4 * RowBytes.nativeNetwork(32, BF16_NHWC, 128, 128), bf16Twin);
        assertEquals(2 * bf16Twin, RowBytes.nativeNetwork(64, BF16_NHWC, 256, 256));
    }
}
