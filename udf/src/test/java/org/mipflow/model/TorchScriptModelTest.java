package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/**
 * The PyTorch fixture (scripts/torch/make_fixture.py) decoded by the Java samplers through DJL
 * matches the decodes the same script computed in PyTorch, and broken exports are refused at load.
 */
class TorchScriptModelTest {
    static final Path FIXTURE = Path.of("src/test/resources/torchscript");
    static JsonObject expected;
    static TorchScriptModel model;

    @BeforeAll
    static void load() throws Exception {
        expected = JsonParser.parseString(Files.readString(FIXTURE.resolve("expected.json"))).getAsJsonObject();
        MipflowModel.configureThreads(1);
        model = TorchScriptModel.load(FIXTURE);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"full", "multiscale", "onestep"})
    void samplersMatchPyTorch(String mode) {
        JsonArray ids = expected.getAsJsonArray("ids");
        int n = ids.size();
        float[] z = floats(expected.getAsJsonArray("latents"));
        JsonArray stageSteps = expected.getAsJsonArray("stageSteps");
        int[] steps = new int[stageSteps.size()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = stageSteps.get(i).getAsInt();
        }
        SamplerConfig cfg = new SamplerConfig(SamplingMode.parse(mode), expected.get("fullSteps").getAsInt(), steps);
        RandomGenerator[] rngs = new RandomGenerator[n];
        for (int i = 0; i < n; i++) {
            rngs[i] = RowNoise.forRow(expected.get("seed").getAsLong(), ids.get(i).getAsString());
        }
        float[] got = new Sampler(model, cfg).decode(z, n, 4, 4, rngs, n);
        float[] want = floats(expected.getAsJsonObject("modes").getAsJsonObject(mode).getAsJsonArray("images"));
        assertEquals(want.length, got.length);
        double maxDiff = 0;
        for (int i = 0; i < want.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
        }
        // torch 1.13 (the script) and libtorch 2.5 (DJL) differ in the last bits of their kernels.
        assertTrue(maxDiff < 1e-4, mode + ": largest difference to PyTorch " + maxDiff);
    }

    @Test
    void brokenExportsAreRefusedWithTheReason(@TempDir Path tmp) throws Exception {
        assertRefused(tmp, "bad-arity.pt", "forward");
        assertRefused(tmp, "bad-shape.pt", "shape (1, 1, 8, 8)");
        assertRefused(tmp, "bad-dtype.pt", "float64");
    }

    @Test
    void changedFileAndUnsupportedConventionAreRefused(@TempDir Path tmp) throws Exception {
        Path dir = copy(tmp.resolve("changed"), "teacher.pt");
        Files.write(dir.resolve("teacher.pt"), new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchScriptModel.load(dir));
        assertTrue(e.getMessage().contains("corrupt or was changed"), e.getMessage());

        Path other = copy(tmp.resolve("convention"), "teacher.pt");
        Path json = other.resolve(ModelManifest.FILE);
        Files.writeString(json, Files.readString(json).replace("t = 1 is pure noise", "t = 0 is pure noise"));
        e = assertThrows(ModelFormatException.class, () -> DecoderFacts.read(other));
        assertTrue(e.getMessage().contains("timeConvention"), e.getMessage());
    }

    @Test
    void factsComeFromModelJson() {
        DecoderFacts f = DecoderFacts.read(FIXTURE);
        assertEquals("torchscript", f.format());
        assertEquals(4, f.latentChannels());
        assertEquals(8, f.downsample());
        assertEquals(3, f.schedule().stages());
        assertTrue(f.hasStudent());
    }

    private static void assertRefused(Path tmp, String file, String reason) throws Exception {
        Path dir = copy(tmp.resolve(file), file);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> TorchScriptModel.load(dir));
        assertTrue(e.getMessage().contains(file) && e.getMessage().contains(reason), e.getMessage());
    }

    /** A model directory whose teacher is {@code file} from the fixture, without a student. */
    static Path copy(Path dir, String file) throws Exception {
        Files.createDirectories(dir);
        Files.copy(FIXTURE.resolve(file), dir.resolve(file));
        JsonObject m = JsonParser.parseString(Files.readString(FIXTURE.resolve(ModelManifest.FILE))).getAsJsonObject();
        m.addProperty("teacher", file);
        m.remove("student");
        JsonObject sha = new JsonObject();
        sha.addProperty(file, Checksums.sha256(dir.resolve(file)));
        m.add("sha256", sha);
        Files.writeString(dir.resolve(ModelManifest.FILE), m.toString());
        return dir;
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) a.get(i).getAsDouble();
        }
        return f;
    }
}
