package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.mipflow.metrics.FeatureStats;

/** The user-supplied feature network, run as PyTorch runs it (scripts/torch/make_feature_fixture.py). */
class FeatureNetTest {
    static final Path FIXTURE = Path.of("src/test/resources/features");

    /** images.bin: uint8 planar [3,64,64] images, 40 references then their 40 decodes, as floats 0..255. */
    static float[][] images(int count, int size) throws IOException {
        byte[] b = Files.readAllBytes(FIXTURE.resolve("images.bin"));
        int px = 3 * size * size;
        float[][] out = new float[count][px];
        for (int i = 0; i < count; i++) {
            for (int k = 0; k < px; k++) {
                out[i][k] = b[i * px + k] & 0xff;
            }
        }
        return out;
    }

    static JsonObject expected() throws IOException {
        return com.google.gson.JsonParser.parseString(Files.readString(FIXTURE.resolve("expected.json")))
                .getAsJsonObject();
    }

    @Test
    void featuresAndFiguresMatchPyTorch() throws IOException {
        JsonObject e = expected();
        int n = e.get("count").getAsInt();
        int size = e.get("size").getAsInt();
        float[][] img = images(2 * n, size);
        var py = e.getAsJsonArray("features");
        FeatureStats stats = new FeatureStats(16, 1000, 0);
        try (FeatureNet net = FeatureNet.load(FIXTURE.resolve("good"), Device.cpu())) {
            assertEquals(48, net.manifest().inputSize());
            float[][] f = new float[2 * n][];
            for (int i = 0; i < 2 * n; i++) {
                f[i] = net.of(img[i], size, size);
                var row = py.get(i).getAsJsonArray();
                for (int k = 0; k < f[i].length; k++) {
                    assertEquals(row.get(k).getAsDouble(), f[i][k], 2e-5, "image " + i + " feature " + k);
                }
            }
            for (int i = 0; i < n; i++) {
                stats.add("img-" + i, f[n + i], f[i]);
            }
        }
        FeatureStats.Figures fig = stats.figures();
        double rfid = e.get("rfid").getAsDouble();
        // float32 features from two engines: the figure, not the bits
        assertEquals(rfid, fig.rfid(), 1e-3 * rfid);
        assertEquals(e.get("kid").getAsDouble(), fig.kid(), 1e-3 * e.get("kid").getAsDouble());
    }

    @Test
    void aNetworkOutOfContractIsNamedPerCallAndNaNWithholdsTheFigures() throws IOException {
        float[][] img = images(2, 64);
        try (FeatureNet bad = FeatureNet.load(FIXTURE.resolve("bad-shape"), Device.cpu())) {
            IllegalStateException ex = assertThrows(IllegalStateException.class, () -> bad.of(img[0], 64, 64));
            assertTrue(ex.getMessage().contains("(1, 8)") && ex.getMessage().contains("(1, 16)"), ex.getMessage());
        }
        try (FeatureNet nan = FeatureNet.load(FIXTURE.resolve("nan"), Device.cpu())) {
            FeatureStats s = new FeatureStats(16, 10, 0);
            s.add("a", nan.of(img[0], 64, 64), nan.of(img[1], 64, 64));
            s.add("b", nan.of(img[1], 64, 64), nan.of(img[0], 64, 64));
            FeatureStats.Figures f = s.figures();
            assertNull(f.rfid());
            assertTrue(f.problem().contains("non-finite"), f.problem());
        }
    }

    @Test
    void aChangedModuleIsRefusedByItsChecksum(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        Files.copy(FIXTURE.resolve("good/model.json"), tmp.resolve("model.json"));
        Files.copy(FIXTURE.resolve("bad-shape/features.pt"), tmp.resolve("features.pt"));
        ModelFormatException ex = assertThrows(ModelFormatException.class, () -> FeatureNet.load(tmp, Device.cpu()));
        assertTrue(ex.getMessage().toLowerCase(java.util.Locale.ROOT).contains("sha"), ex.getMessage());
    }
}
