package org.mipflow.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MS-SSIM against the independent numpy implementation in
 * resources/metrics/make_ms_ssim_haarpsi_reference.py (values in ms_ssim_haarpsi_reference.json;
 * its docstring says how they were made), plus properties. The image generator and loaders here
 * are shared with {@link HaarPsiReferenceTest}.
 */
class MsSsimReferenceTest {
    /** Java and numpy differ only in summation order (separable vs 2-D filters); seen: ~1e-14. */
    static final double TOLERANCE = 1e-9;

    // ---------------------------------------------------------------------------------------------
    // reference data and test images (the generator is specified in the Python script's docstring)

    static JsonObject reference() throws Exception {
        try (InputStream in = MsSsimReferenceTest.class.getResourceAsStream("/metrics/ms_ssim_haarpsi_reference.json")) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    /** One reference entry with its two images, regenerated (checked by CRC) or read from PNG. */
    record Pair(String name, int h, int w, float[] reference, float[] distorted, JsonObject values) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Pair> pairs() throws Exception {
        JsonObject ref = reference();
        List<Pair> out = new ArrayList<>();
        for (JsonElement e : ref.getAsJsonArray("generated")) {
            JsonObject o = e.getAsJsonObject();
            int h = o.get("h").getAsInt();
            int w = o.get("w").getAsInt();
            int[] base = base(h, w);
            int[] dist = variant(o.get("distorted").getAsString(), base, h, w);
            assertEquals(o.get("crc_reference").getAsLong(), crc(base), "regenerated base " + h + "x" + w);
            assertEquals(o.get("crc_distorted").getAsLong(), crc(dist), "regenerated " + o.get("distorted"));
            out.add(new Pair(h + "x" + w + " " + o.get("distorted").getAsString(), h, w, toFloat(base), toFloat(dist), o));
        }
        for (JsonElement e : ref.getAsJsonArray("png")) {
            JsonObject o = e.getAsJsonObject();
            float[] a = loadPng(o.get("reference").getAsString());
            float[] b = loadPng(o.get("distorted").getAsString());
            out.add(new Pair(o.get("reference").getAsString() + " vs " + o.get("distorted").getAsString(),
                    o.get("h").getAsInt(), o.get("w").getAsInt(), a, b, o));
        }
        return out.stream();
    }

    static float[] loadPng(String name) throws Exception {
        try (InputStream in = MsSsimReferenceTest.class.getResourceAsStream("/metrics/" + name)) {
            BufferedImage img = ImageIO.read(in);
            int w = img.getWidth();
            int h = img.getHeight();
            float[] out = new float[3 * h * w];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int p = img.getRGB(x, y);
                    out[y * w + x] = (p >> 16) & 255;
                    out[h * w + y * w + x] = (p >> 8) & 255;
                    out[2 * h * w + y * w + x] = p & 255;
                }
            }
            return out;
        }
    }

    /** splitmix64 finaliser of (seed << 32) + i + 1. */
    static long mix(int seed, long i) {
        long z = ((long) seed << 32) + i + 1;
        z *= 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Planar [3,h,w] base image: gradients, checkers, rings and grain. */
    static int[] base(int h, int w) {
        int n = h * w;
        int[] out = new int[3 * n];
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                int i = r * w + c;
                int dr = 2 * r - h;
                int dc = 2 * c - w;
                out[i] = 20 + 180 * c / (w - 1) + 40 * (((8 * c) / w + (8 * r) / h) % 2);
                out[n + i] = 20 + 180 * r / (h - 1) + 40 * (((dr * dr + dc * dc) * 24 / (h * h)) % 2);
                int grain = (int) (mix(0, 2L * n + i) & 31) - 16;
                out[2 * n + i] = 60 + 120 * (r + c) / (h + w - 2) + grain;
            }
        }
        return out;
    }

    static int[] noisy(int[] base, int seed, int sigma) {
        int[] out = new int[base.length];
        for (int i = 0; i < base.length; i++) {
            long z = mix(seed, i);
            int t = (int) ((z & 255) + ((z >>> 8) & 255) + ((z >>> 16) & 255) + ((z >>> 24) & 255)) - 510;
            out[i] = clamp(base[i] + Math.floorDiv(t * sigma, 148));
        }
        return out;
    }

    static int[] variant(String name, int[] base, int h, int w) {
        int n = h * w;
        int[] out = base.clone();
        switch (name) {
            case "identical":
                return out;
            case "noise5":
                return noisy(base, 1, 5);
            case "noise20":
                return noisy(base, 2, 20);
            case "blur": {
                int[] k = {1, 4, 6, 4, 1};
                for (int p = 0; p < 3; p++) {
                    long[] tmp = new long[n];
                    for (int r = 0; r < h; r++) {
                        for (int c = 0; c < w; c++) {
                            long s = 0;
                            for (int j = 0; j < 5; j++) {
                                s += (long) k[j] * base[p * n + r * w + Math.min(Math.max(c + j - 2, 0), w - 1)];
                            }
                            tmp[r * w + c] = s;
                        }
                    }
                    for (int r = 0; r < h; r++) {
                        for (int c = 0; c < w; c++) {
                            long s = 0;
                            for (int j = 0; j < 5; j++) {
                                s += k[j] * tmp[Math.min(Math.max(r + j - 2, 0), h - 1) * w + c];
                            }
                            out[p * n + r * w + c] = (int) ((s + 128) / 256);
                        }
                    }
                }
                return out;
            }
            case "shift":
                for (int p = 0; p < 3; p++) {
                    for (int r = 0; r < h; r++) {
                        for (int c = 0; c < w; c++) {
                            out[p * n + r * w + c] = base[p * n + Math.max(r - 1, 0) * w + Math.max(c - 3, 0)];
                        }
                    }
                }
                return out;
            case "tint":
                for (int i = 0; i < n; i++) {
                    out[i] = clamp(11 * base[i] / 10 + 5);
                    out[n + i] = 9 * base[n + i] / 10;
                }
                return out;
            case "invert_b":
                for (int i = 0; i < n; i++) {
                    out[2 * n + i] = 255 - base[2 * n + i];
                }
                return out;
            default:
                throw new IllegalArgumentException("unknown variant " + name);
        }
    }

    static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }

    static long crc(int[] planar) {
        byte[] bytes = new byte[planar.length];
        for (int i = 0; i < planar.length; i++) {
            bytes[i] = (byte) planar[i];
        }
        CRC32 crc = new CRC32();
        crc.update(bytes);
        return crc.getValue();
    }

    static float[] toFloat(int[] v) {
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------

    static Stream<Arguments> referencePairs() throws Exception {
        return pairs().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("referencePairs")
    void matchesNumpyReferenceAtEveryScaleCount(Pair pair) {
        JsonObject byScales = pair.values().getAsJsonObject("ms_ssim_by_scales");
        assertEquals(MsSsim.maxScales(pair.h(), pair.w()), pair.values().get("ms_ssim_scales").getAsInt());
        for (Map.Entry<String, JsonElement> e : byScales.entrySet()) {
            int scales = Integer.parseInt(e.getKey());
            double java = MsSsim.compute(pair.reference(), pair.distorted(), 3, pair.h(), pair.w(), 255, scales);
            assertEquals(e.getValue().getAsDouble(), java, TOLERANCE, pair + ", " + scales + " scales");
        }
        if (Math.min(pair.h(), pair.w()) >= MsSsim.MIN_SIZE) {
            assertEquals(pair.values().get("ms_ssim").getAsDouble(),
                    MsSsim.compute(pair.reference(), pair.distorted(), 3, pair.h(), pair.w(), 255), TOLERANCE, pair.name());
        }
    }

    @Test
    void identicalImagesGiveExactlyOne() {
        for (int[] size : new int[][] {{256, 256}, {171, 203}}) {
            float[] a = toFloat(base(size[0], size[1]));
            assertEquals(1.0, MsSsim.compute(a, a.clone(), 3, size[0], size[1], 255), 0.0);
        }
        float[] small = toFloat(base(64, 64));
        assertEquals(1.0, MsSsim.compute(small, small.clone(), 3, 64, 64, 255, 3), 0.0);
    }

    @Test
    void moreNoiseScoresLower() {
        assertFallsWithNoise((ref, distorted) -> MsSsim.compute(ref, distorted, 3, 256, 256, 255));
    }

    /**
     * Scores a 256 x 256 image against itself with Gaussian noise of sigma 2, 5, 10, 20, 40 added;
     * asserts that each score is below the previous one (and below 1); returns them.
     */
    static double[] assertFallsWithNoise(java.util.function.ToDoubleBiFunction<float[], float[]> metric) {
        int[] base = base(256, 256);
        float[] ref = toFloat(base);
        int[] sigmas = {2, 5, 10, 20, 40};
        double[] scores = new double[sigmas.length];
        double previous = 1.0;
        for (int i = 0; i < sigmas.length; i++) {
            double v = metric.applyAsDouble(ref, toFloat(noisy(base, 9, sigmas[i])));
            assertTrue(v < previous, "sigma " + sigmas[i] + ": " + v + " not below " + previous);
            scores[i] = v;
            previous = v;
        }
        return scores;
    }

    @Test
    void symmetric() throws Exception {
        for (Pair p : (Iterable<Pair>) pairs()::iterator) {
            int scales = MsSsim.maxScales(p.h(), p.w());
            assertEquals(MsSsim.compute(p.reference(), p.distorted(), 3, p.h(), p.w(), 255, scales),
                    MsSsim.compute(p.distorted(), p.reference(), 3, p.h(), p.w(), 255, scales), 0.0, p.name());
        }
    }

    @Test
    void oneScaleIsSsimAndNegativeMeansAreClampedPerChannel() throws Exception {
        float[] a = loadPng("base.png");
        for (String v : new String[] {"noise", "blur", "shift", "tint"}) {
            float[] b = loadPng(v + ".png");
            assertEquals(Ssim.compute(a, b, 3, 40, 52, 255), MsSsim.compute(a, b, 3, 40, 52, 255, 1), 1e-12, v);
        }
        // blue inverted: that channel's cs means are negative -> its MS-SSIM is 0, the others 1
        int[] base = base(256, 256);
        assertEquals(2.0 / 3.0, MsSsim.compute(toFloat(base), toFloat(variant("invert_b", base, 256, 256)),
                3, 256, 256, 255), 1e-12);
    }

    @Test
    void sizesScalesAndWeights() {
        assertEquals(161, MsSsim.MIN_SIZE);
        assertEquals(5, MsSsim.maxScales(256, 256));
        assertEquals(5, MsSsim.maxScales(161, 400));
        assertEquals(4, MsSsim.maxScales(160, 400));
        assertEquals(3, MsSsim.maxScales(64, 64));
        assertEquals(2, MsSsim.maxScales(32, 32));
        assertEquals(0, MsSsim.maxScales(10, 100));
        assertEquals(41, MsSsim.minSize(3));
        double[] w3 = MsSsim.weights(3);
        assertEquals(1.0, w3[0] + w3[1] + w3[2], 1e-15);
        assertEquals(0.0448, MsSsim.weights(5)[0]);

        float[] small = new float[3 * 64 * 64];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MsSsim.compute(small, small, 3, 64, 64, 255));
        assertTrue(e.getMessage().contains("161x161"), e.getMessage());
        assertTrue(e.getMessage().contains("at most 3 scales"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MsSsim.compute(small, small, 3, 64, 64, 255, 4));
        assertThrows(IllegalArgumentException.class, () -> MsSsim.compute(small, small, 3, 64, 64, 255, 0));
        assertThrows(IllegalArgumentException.class, () -> MsSsim.compute(small, new float[5], 3, 64, 64, 255, 3));
    }
}
