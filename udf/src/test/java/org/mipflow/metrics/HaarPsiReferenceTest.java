package org.mipflow.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mipflow.metrics.MsSsimReferenceTest.base;
import static org.mipflow.metrics.MsSsimReferenceTest.toFloat;

import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.mipflow.metrics.MsSsimReferenceTest.Pair;

/**
 * HaarPSI against the independent numpy implementation in
 * resources/metrics/make_ms_ssim_haarpsi_reference.py (values in ms_ssim_haarpsi_reference.json;
 * that implementation agrees with the authors' haarPsi.py to 1.4e-14), plus properties. Images
 * come from {@link MsSsimReferenceTest}'s generator and loaders.
 */
class HaarPsiReferenceTest {
    /** Java (integral images) and numpy (2-D convolutions) differ only by rounding; seen: ~1e-14. */
    private static final double TOLERANCE = 1e-9;

    static Stream<Arguments> referencePairs() throws Exception {
        return MsSsimReferenceTest.pairs().map(Arguments::of);
    }

    private static float[] plane(float[] planar, int p, int h, int w) {
        return Arrays.copyOfRange(planar, p * h * w, (p + 1) * h * w);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("referencePairs")
    void matchesNumpyReference(Pair pair) {
        int h = pair.h();
        int w = pair.w();
        assertEquals(pair.values().get("haarpsi").getAsDouble(),
                HaarPsi.compute(pair.reference(), pair.distorted(), 3, h, w), TOLERANCE, "RGB " + pair);
        assertEquals(pair.values().get("haarpsi_swapped").getAsDouble(),
                HaarPsi.compute(pair.distorted(), pair.reference(), 3, h, w), TOLERANCE, "RGB swapped " + pair);
        assertEquals(pair.values().get("haarpsi_grey_g").getAsDouble(),
                HaarPsi.compute(plane(pair.reference(), 1, h, w), plane(pair.distorted(), 1, h, w), 1, h, w),
                TOLERANCE, "grey (green plane) " + pair);
    }

    @Test
    void identicalImagesGiveExactlyOne() {
        for (int[] size : new int[][] {{256, 256}, {64, 64}, {171, 203}}) {
            float[] a = toFloat(base(size[0], size[1]));
            assertEquals(1.0, HaarPsi.compute(a, a.clone(), 3, size[0], size[1]), 0.0);
            float[] g = plane(a, 0, size[0], size[1]);
            assertEquals(1.0, HaarPsi.compute(g, g.clone(), 1, size[0], size[1]), 0.0);
        }
    }

    @Test
    void moreNoiseScoresLower() {
        double[] scores = MsSsimReferenceTest.assertFallsWithNoise(
                (ref, distorted) -> HaarPsi.compute(ref, distorted, 3, 256, 256));
        for (double v : scores) {
            assertTrue(v > 0, "score " + v + " in " + Arrays.toString(scores));
        }
    }

    @Test
    void symmetric() throws Exception {
        for (Pair p : (Iterable<Pair>) MsSsimReferenceTest.pairs()::iterator) {
            assertEquals(HaarPsi.compute(p.reference(), p.distorted(), 3, p.h(), p.w()),
                    HaarPsi.compute(p.distorted(), p.reference(), 3, p.h(), p.w()), 0.0, p.name());
        }
    }

    @Test
    void chromaCounts() {
        // swap R and B and compensate Y through G: the luma barely changes, the colours do
        int h = 64;
        int w = 64;
        int n = h * w;
        float[] a = toFloat(base(h, w));
        float[] b = a.clone();
        for (int i = 0; i < n; i++) {
            float r = a[i];
            float bl = a[2 * n + i];
            b[i] = bl;
            b[2 * n + i] = r;
            b[n + i] = Math.min(255, Math.max(0, Math.round(a[n + i] + (0.299f - 0.114f) * (r - bl) / 0.587f)));
        }
        double rgb = HaarPsi.compute(a, b, 3, h, w);
        double luma = HaarPsi.compute(luma(a, n), luma(b, n), 1, h, w);
        assertTrue(luma > 0.99, "luma alone scores " + luma);
        assertTrue(rgb < luma - 0.1, "colour swap scores " + rgb + ", luma alone " + luma);
    }

    private static float[] luma(float[] rgb, int n) {
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            y[i] = (float) (0.299 * rgb[i] + 0.587 * rgb[n + i] + 0.114 * rgb[2 * n + i]);
        }
        return y;
    }

    @Test
    void rejectsBadShapes() {
        float[] a = new float[3 * 8 * 8];
        assertThrows(IllegalArgumentException.class, () -> HaarPsi.compute(a, a, 2, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> HaarPsi.compute(a, new float[3], 3, 8, 8));
        assertThrows(IllegalArgumentException.class, () -> HaarPsi.compute(a, a, 3, 8, 9));
    }
}
