package org.mipflow.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * PSNR and SSIM against scikit-image 0.19 on the images in resources/metrics, made by
 * resources/metrics/make_reference.py (its docstring gives the exact calls).
 */
class MetricsReferenceTest {

    private static float[] load(String name) throws Exception {
        return MsSsimReferenceTest.loadPng(name + ".png");
    }

    private static JsonObject reference() throws Exception {
        try (InputStream in = MetricsReferenceTest.class.getResourceAsStream("/metrics/reference.json")) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"noise", "blur", "shift", "tint"})
    void matchesScikitImage(String variant) throws Exception {
        float[] a = load("base");
        float[] b = load(variant);
        JsonObject ref = reference().getAsJsonObject(variant);
        assertEquals(ref.get("psnr").getAsDouble(), Psnr.compute(a, b, 255), 1e-9, "PSNR " + variant);
        assertEquals(ref.get("ssim").getAsDouble(), Ssim.compute(a, b, 3, 40, 52, 255), 1e-6, "SSIM " + variant);
    }

    @Test
    void identicalImagesAreAPerfectMatch() throws Exception {
        float[] a = load("base");
        assertEquals(Double.POSITIVE_INFINITY, Psnr.compute(a, a, 255));
        assertEquals(1.0, Ssim.compute(a, a, 3, 40, 52, 255), 1e-12);
    }

    @Test
    void worseDistortionScoresLower() throws Exception {
        float[] a = load("base");
        float[] noisy = load("noise");
        float[] worse = noisy.clone();
        for (int i = 0; i < worse.length; i++) {
            worse[i] = Math.min(255, worse[i] + ((i * 7919) % 41) - 20);
        }
        assertTrue(Psnr.compute(a, worse, 255) < Psnr.compute(a, noisy, 255));
        assertTrue(Ssim.compute(a, worse, 3, 40, 52, 255) < Ssim.compute(a, noisy, 3, 40, 52, 255));
    }
}
