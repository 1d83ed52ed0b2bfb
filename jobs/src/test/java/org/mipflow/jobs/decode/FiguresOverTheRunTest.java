package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.TestModels;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.metrics.KernelInceptionDistance;
import org.mipflow.model.DecoderFacts;
import org.mipflow.recipe.DeviceDeclaration;
import org.mipflow.recipe.Recipe;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.FeatureSettings;

/**
 * Figures over the whole run (#29): the KID sample's bound from the driver's memory, and a
 * summary.json written with null figures and the reason when computing them fails.
 */
class FiguresOverTheRunTest {
    @Test
    void theKidSampleIsBoundedByTheDriversMemory() throws Exception {
        int dim = 2048;
        for (long bytes : new long[] {1L << 20, 1L << 30, 1L << 33}) {
            int n = KernelInceptionDistance.maxSample(bytes, dim);
            assertTrue(KernelInceptionDistance.driverBytes(n, dim) <= bytes, bytes + ": " + n);
            assertTrue(KernelInceptionDistance.driverBytes(n + 1, dim) > bytes, bytes + ": " + n);
        }
        long heap = 4L << 30; // spark.driver.memory 4g, as conf/spark-defaults-cpu.conf sets
        int max = KernelInceptionDistance.maxSample(heap / 4, dim);
        assertTrue(max > FeatureSettings.DEFAULT_KID_SAMPLE && max < 10_000, "bound " + max);
        assertDoesNotThrow(() -> DecodeJob.checkKidSample(new FeatureSettings("net", dim, "sha", max), heap));
        UsageException e = assertThrows(UsageException.class,
                () -> DecodeJob.checkKidSample(new FeatureSettings("net", dim, "sha", 1_000_000), heap));
        assertEquals("--kid-sample 1000000 needs about " + (KernelInceptionDistance.driverBytes(1_000_000, dim) >> 20)
                + " MiB on the driver for KID's kernel matrices (2048-d "
                + "features); a quarter of this driver's 4096 MiB heap holds at most " + max + " rows: lower "
                + "--kid-sample or raise the driver's memory (spark.driver.memory)", e.getMessage());
    }

    @Test
    void figuresThatCannotBeComputedLeaveNullFiguresAndTheReasonInSummaryJson(@TempDir Path tmp) throws Exception {
        FeatureStats.Figures f = DecodeJob.figuresOf(() -> {
            throw new OutOfMemoryError("Java heap space");
        }, 500);
        assertEquals(new FeatureStats.Figures(null, null, null, 500, 0, 0, "the figures could not be computed: the "
                + "driver ran out of memory (Java heap space); lower --kid-sample or raise spark.driver.memory"), f);

        Path model = TestModels.tiny(tmp.resolve("model"));
        FeatureSettings fs = new FeatureSettings("net", 16, "abc", 10);
        DecodeSettings s = new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 0, 7, 1, null,
                RowLimits.DEFAULT, null).withFeatures(fs);
        s = s.withRecipe(Recipe.resolve(DecoderFacts.read(model), s.sampler(), 7, s.numerics(), s.batching(), null,
                s.metrics(), fs.sha256(), fs.kidSample(), List.of(new DeviceDeclaration("driver", false, false, "-", 0,
                        1))));
        DecodeJob.Summary sm = new DecodeJob.Summary(500, 500, 0, 1, 500, Map.of(), "onestep", 3, 3, new JsonObject(), 0,
                List.of(), f, 1, org.mipflow.sampling.Batching.Traffic.NONE,
                org.mipflow.jobs.output.ErrorReasons.NONE, Map.of());
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        DecodeJob.writeSummary(out.toString(), sm, s, 0, new Configuration());
        JsonObject j = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
        assertTrue(j.get("rfid").isJsonNull() && j.get("kid").isJsonNull());
        assertEquals(500, j.get("rfid_images").getAsLong());
        assertTrue(j.get("features_error").getAsString().startsWith("the figures could not be computed"));
        assertEquals(500, j.get("decoded").getAsLong());
        assertEquals("abc", j.getAsJsonObject("recipe").get("features_sha256").getAsString());
    }
}
