package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.random.RandomGenerator;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.mipflow.io.LatentSpec;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/**
 * A token decoder of the method's authors' kind (joint attention over latent tokens and image
 * patches, resolution-dependent positions, a learned null latent), stepped as they train it
 * (time windows, stage-local velocity, their grid, positive renoise, guidance): Mipflow's decodes
 * equal the reference sampler's (scripts/torch/reference_sampler.py, their semantics with
 * Mipflow's noise) to 1e-4, for K = 3 and 4, N = 1 and 10 steps per stage, W = 1 and 2.
 */
class TokenDecoderTest {
    static final Path FIXTURE = Path.of("src/test/resources/token-decoder");

    @ParameterizedTest
    @ValueSource(strings = {"k3", "k4"})
    void decodesEqualTheReferenceSampler(String dir) throws IOException {
        JsonObject e = JsonParser.parseString(Files.readString(FIXTURE.resolve(dir).resolve("expected.json")))
                .getAsJsonObject();
        try (TorchScriptModel model = TorchScriptModel.load(FIXTURE.resolve(dir))) {
            LatentSpec.Tokens spec = (LatentSpec.Tokens) model.latent();
            JsonArray shape = e.getAsJsonArray("contextShape");
            int n = shape.get(0).getAsInt();
            assertEquals(spec.tokens(), shape.get(1).getAsInt());
            assertEquals(spec.dim(), shape.get(2).getAsInt());
            float[] z = floats(e.getAsJsonArray("contexts"));
            int k = model.schedule().stages();
            for (var d : e.getAsJsonArray("decodes")) {
                JsonObject o = d.getAsJsonObject();
                int steps = o.get("stepsPerStage").getAsInt();
                double w = o.get("cfgScale").getAsDouble();
                int[] perStage = new int[k];
                Arrays.fill(perStage, steps);
                RandomGenerator[] rngs = new RandomGenerator[n];
                for (int i = 0; i < n; i++) {
                    rngs[i] = RowNoise.forRow(e.get("seed").getAsLong(), e.getAsJsonArray("ids").get(i).getAsString());
                }
                Sampler sampler = new Sampler(model, new SamplerConfig(SamplingMode.MULTISCALE, 50, perStage, w));
                float[] got = sampler.decode(z, n, spec.tokens(), spec.dim(), rngs, 2);
                float[] want = floats(o.getAsJsonArray("images"));
                assertEquals(want.length, got.length);
                double max = 0;
                for (int i = 0; i < want.length; i++) {
                    max = Math.max(max, Math.abs(want[i] - got[i]));
                }
                System.out.printf("token decoder %s N=%d W=%.1f: max |mipflow - reference| = %.3g%n", dir, steps, w, max);
                assertTrue(max < 1e-4, dir + " N=" + steps + " W=" + w + ": max |mipflow - reference| = " + max);
                assertEquals(o.get("forwardCalls").getAsInt(), sampler.forwardPasses() * 1, "calls per image");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"k3"})
    void modesItWasNotTrainedForAndGuidanceWithoutANullConditionAreRefused(String dir) {
        try (TorchScriptModel model = TorchScriptModel.load(FIXTURE.resolve(dir))) {
            IllegalArgumentException full = assertThrows(IllegalArgumentException.class,
                    () -> new Sampler(model, SamplerConfig.of(SamplingMode.FULL, 3)));
            assertTrue(full.getMessage().contains("not one the model was trained for"), full.getMessage());
            assertEquals(2.0, new Sampler(model, SamplerConfig.of(SamplingMode.MULTISCALE, 3)).cfgScale(),
                    "the model's default scale");
        }
        try (TorchScriptModel grid = TorchScriptModel.load(Path.of("src/test/resources/torchscript"))) {
            IllegalArgumentException cfg = assertThrows(IllegalArgumentException.class, () -> new Sampler(grid,
                    SamplerConfig.of(SamplingMode.MULTISCALE, 3).withCfgScale(2)));
            assertTrue(cfg.getMessage().contains("null condition"), cfg.getMessage());
            assertEquals(1.0, new Sampler(grid, SamplerConfig.of(SamplingMode.MULTISCALE, 3)).cfgScale());
        }
    }

    /** A copy of the k3 fixture with one edit to its model.json; the error the load gives. */
    static String refusal(Path tmp, java.util.function.Consumer<JsonObject> edit) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "edited");
        for (String f : new String[] {"teacher.pt", "context_null.bin"}) {
            Files.copy(FIXTURE.resolve("k3").resolve(f), dir.resolve(f));
        }
        JsonObject m = JsonParser.parseString(Files.readString(FIXTURE.resolve("k3/model.json"))).getAsJsonObject();
        edit.accept(m);
        Files.writeString(dir.resolve("model.json"), m.toString());
        return assertThrows(ModelFormatException.class, () -> TorchScriptManifest.read(dir)).getMessage();
    }

    @org.junit.jupiter.api.Test
    void unknownOrContradictorySettingsAreRefusedNamingTheField(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws IOException {
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("velocty", "global"))
                .contains("unknown field schedule.velocty"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("grid", "cosine"))
                .contains("schedule.grid 'cosine' is not one of uniform, authors"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("networkTime", "physical"))
                .contains("schedule.timeWindows is given but networkTime is physical"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").remove("timeWindows"))
                .contains("schedule.timeWindows needs one [tau_max, tau_min] per stage"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").addProperty("imageConversion", "floor(x)"))
                .contains("schedule.imageConversion"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("latent").addProperty("tokens", 17))
                .contains("nullContext context_null.bin has 512 bytes"));
        assertTrue(refusal(tmp, m -> m.addProperty("guidanceScale", 2)).contains("unknown field guidanceScale"));
        assertTrue(refusal(tmp, m -> m.getAsJsonObject("schedule").add("ends",
                JsonParser.parseString("[0.667, 0.9, 0.0]"))).contains("schedule.nominalStarts/ends"));
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = a.get(i).getAsFloat();
        }
        return f;
    }
}
