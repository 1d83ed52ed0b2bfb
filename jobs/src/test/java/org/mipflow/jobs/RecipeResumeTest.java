package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.CannotHonourRecipe;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.FeatureSettings;
import org.mipflow.spark.LatentColumns;

/**
 * One run, one recipe (#29): --resume with any field of the recipe changed is refused, naming the
 * field, and leaves the earlier output byte for byte as it was; the unchanged recipe resumes. The
 * recipe is in every commit record and, resolved, in summary.json. An executor that cannot honour
 * the recipe (here the JVM, declared without native bf16 through the test seam, under a recipe in
 * bf16) fails its task with the one line.
 */
class RecipeResumeTest {
    static final int SHARDS = 4;

    @Test
    void resumeWithAnyRecipeFieldChangedIsRefusedAndChangesNothing(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        Path other = tmp.resolve("other-model");
        try (MipflowModel m = MipflowModel.create(TestModels.TINY, 43)) {
            m.initStudentFromTeacher();
            m.save(other, new JsonObject());
        }
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-recipe");
        Path out = tmp.resolve("out");
        Path full = tmp.resolve("full");
        String input;
        try {
            input = ResumeTest.writeShards(spark, tmp.resolve("input"), SHARDS, "r-").toString();
            DecodeSettings base = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.MULTISCALE, 50,
                    new int[] {1, 1, 1}), 2, 7, 1, null, RowLimits.DEFAULT, null)
                    .withFeatures(FeatureSettings.of(FeatureFixture.NETWORK, 10));
            DecodeJob.Request first = DecodeJob.Request.of(List.of(input), out.toString(), base);
            DecodeJob.run(spark, first);
            Map<String, String> before = OutputRulesTest.snapshot(out);

            JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json")))
                    .getAsJsonObject();
            JsonObject recipe = summary.getAsJsonObject("recipe");
            assertEquals("auto", summary.get("precision").getAsString(), "as asked");
            assertTrue(recipe.get("numerics").getAsString().matches("(bf16|fp32)/nhwc"), recipe.toString());
            assertEquals(Batching.describeCpuTable(), recipe.get("rows_per_call").getAsString());
            assertEquals(3, recipe.getAsJsonObject("model_sha256").size());
            try (var commits = Files.list(out.resolve("_commits"))) {
                for (Path c : commits.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
                    assertEquals(recipe, JsonParser.parseString(Files.readString(c)).getAsJsonObject()
                            .getAsJsonObject("recipe"), "every commit record holds the recipe");
                }
            }

            Map<String, DecodeJob.Request> changed = new LinkedHashMap<>();
            changed.put("model_sha256", first.withSettings(new DecodeSettings(other.toString(), base.sampler(),
                    base.batching(), base.seed(), 1, null, base.limits(), null, base.metrics(), base.numerics(),
                    base.features())));
            changed.put("mode", first.withSettings(with(base, base.sampler().withMode(SamplingMode.ONESTEP))));
            changed.put("stage_steps", first.withSettings(with(base, new SamplerConfig(SamplingMode.MULTISCALE, 50,
                    new int[] {2, 1, 1}))));
            changed.put("seed", first.withSettings(new DecodeSettings(model.toString(), base.sampler(),
                    base.batching(), 8, 1, null, base.limits(), null, base.metrics(), base.numerics(),
                    base.features())));
            changed.put("numerics", first.withSettings(new DecodeSettings(model.toString(), base.sampler(),
                    base.batching(), base.seed(), 1, null, base.limits(), null, base.metrics(),
                    new NumericPath.Request("fp32", "nchw"), base.features())));
            changed.put("rows_per_call", first.withSettings(new DecodeSettings(model.toString(), base.sampler(),
                    new Batching(2, 3, 0), base.seed(), 1, null, base.limits(), null, base.metrics(), base.numerics(),
                    base.features())));
            changed.put("latent_encoding", first.withColumns(LatentColumns.DEFAULT.withDefaultEncoding(
                    LatentEncoding.FLOAT16)));
            changed.put("metrics", first.withSettings(new DecodeSettings(model.toString(), base.sampler(),
                    base.batching(), base.seed(), 1, null, base.limits(), null, MetricSet.parse("psnr"),
                    base.numerics(), base.features())));
            changed.put("features_sha256", first.withSettings(base.withFeatures(null)));
            changed.put("kid_sample", first.withSettings(base.withFeatures(
                    FeatureSettings.of(FeatureFixture.NETWORK, 20))));
            for (var c : changed.entrySet()) {
                UsageException e = assertThrows(UsageException.class,
                        () -> DecodeJob.run(spark, c.getValue().withPolicy(WritePolicy.RESUME)), c.getKey());
                assertTrue(e.getMessage().startsWith("--resume: the committed waves were decoded with another recipe: "
                        + c.getKey() + " (committed "), e.getMessage());
                assertTrue(e.getMessage().endsWith("add --overwrite to start over, or choose another --out"),
                        e.getMessage());
                assertEquals(before, OutputRulesTest.snapshot(out), c.getKey() + ": the earlier output is untouched");
            }

            // mode full: its steps are a field (in the other modes they do not apply)
            DecodeSettings fullMode = with(base, new SamplerConfig(SamplingMode.FULL, 1, new int[] {1, 1, 1}));
            DecodeJob.Request f = DecodeJob.Request.of(List.of(input), full.toString(), fullMode);
            DecodeJob.run(spark, f);
            Map<String, String> fullBefore = OutputRulesTest.snapshot(full);
            UsageException steps = assertThrows(UsageException.class, () -> DecodeJob.run(spark, f.withSettings(
                    with(base, new SamplerConfig(SamplingMode.FULL, 2, new int[] {1, 1, 1})))
                    .withPolicy(WritePolicy.RESUME)));
            assertTrue(steps.getMessage().contains(": steps (committed 1, now 2)"), steps.getMessage());
            assertEquals(fullBefore, OutputRulesTest.snapshot(full));

            // the same recipe resumes as before: everything is committed, nothing decoded again
            DecodeJob.Summary again = DecodeJob.run(spark, first.withPolicy(WritePolicy.RESUME));
            assertEquals(SHARDS, again.resumedShards());
            assertEquals(SHARDS, again.decoded());

            // --resume --features over waves committed without statistics: refused, not figures over part of the run
            Path plain = tmp.resolve("plain");
            DecodeJob.Request noFeatures = first.withSettings(base.withFeatures(null)).withOut(plain.toString());
            DecodeJob.run(spark, noFeatures);
            Map<String, String> plainBefore = OutputRulesTest.snapshot(plain);
            UsageException late = assertThrows(UsageException.class,
                    () -> DecodeJob.run(spark, first.withOut(plain.toString()).withPolicy(WritePolicy.RESUME)));
            assertTrue(late.getMessage().contains("another recipe: features_sha256 (committed null, now \""), late.getMessage());
            assertEquals(plainBefore, OutputRulesTest.snapshot(plain));
            // and where the committed waves' statistics went missing since
            try (var st = Files.list(out.resolve("_commits"))) {
                for (Path stats : st.filter(p -> p.getFileName().toString().endsWith(".features")).toList()) {
                    Files.delete(stats);
                }
            }
            UsageException lost = assertThrows(UsageException.class,
                    () -> DecodeJob.run(spark, first.withPolicy(WritePolicy.RESUME)));
            assertTrue(lost.getMessage().startsWith("--resume --features: the feature statistics of 1 committed wave(s)"),
                    lost.getMessage());
        } finally {
            spark.stop();
        }
        // From the command line: exit 2, one line naming the field and the two ways on, nothing changed.
        Map<String, String> before = OutputRulesTest.snapshot(out);
        CliTest.Result r = CliTest.run("decode", "--input", input, "--model", model.toString(), "--out",
                out.toString(), "--master", "local[1]", "--threads", "1", "--mode", "multiscale", "--stage-steps", "1",
                "--seed", "9", "--features", FeatureFixture.NETWORK.toString(), "--kid-sample", "10", "--resume");
        CliTest.assertOneLineError(r, "another recipe: seed (committed 7, now 9); add --overwrite to start over, "
                + "or choose another --out");
        assertEquals(before, OutputRulesTest.snapshot(out));
    }

    /**
     * Through the test seam the JVM declares a CPU without native bf16: "auto" resolves to fp32 for
     * every task, and a recipe that says bf16 is not computed in emulated bf16 but refused by the
     * task, in one line naming the option.
     */
    @Test
    void anExecutorWithoutNativeBf16ResolvesFp32AndRefusesABf16RecipeAndOutOfMemoryNamesB(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        String old = System.setProperty("mipflow.declare.cpu-flags", "fpu sse sse2 avx2");
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-recipe-bf16");
        try {
            String input = ResumeTest.writeShards(spark, tmp.resolve("input"), 2, "b-").toString();
            DecodeSettings auto = new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 2, 7,
                    1, null, RowLimits.DEFAULT, null);
            DecodeJob.run(spark, List.of(input), tmp.resolve("auto").toString(), auto);
            JsonObject recipe = JsonParser.parseString(Files.readString(tmp.resolve("auto").resolve("summary.json")))
                    .getAsJsonObject().getAsJsonObject("recipe");
            assertEquals("fp32/nhwc", recipe.get("numerics").getAsString());

            DecodeSettings bf16 = new DecodeSettings(model.toString(), auto.sampler(), auto.batching(), 7, 1, null,
                    RowLimits.DEFAULT, null, auto.metrics(), new NumericPath.Request("bf16", "auto"));
            Exception e = assertThrows(Exception.class,
                    () -> DecodeJob.run(spark, List.of(input), tmp.resolve("bf16").toString(), bf16));
            String line = CannotHonourRecipe.find(e);
            assertNotNull(line, e.toString());
            assertTrue(line.startsWith("cannot honour the run's recipe: executor driver has no native bf16 (CPU has "
                    + "neither avx512_bf16 nor amx_bf16, declared by -Dmipflow.declare.cpu-flags) and the recipe "
                    + "computes in bf16/nhwc; run with --precision fp32"), line);

            // An out-of-memory (simulated through the test seam above 1 row per call) is not retried row by
            // row: the task fails with the line that names B, the estimate, the budget and the options.
            System.setProperty("mipflow.test.oom-above-rows", "1");
            DecodeSettings two = new DecodeSettings(model.toString(), auto.sampler(), new Batching(0, 2, 0), 7, 1,
                    null, RowLimits.DEFAULT, null, auto.metrics(), NumericPath.Request.AUTO);
            Exception oom = assertThrows(Exception.class,
                    () -> DecodeJob.run(spark, List.of(input), tmp.resolve("oom").toString(), two));
            String oomLine = CannotHonourRecipe.find(oom);
            assertNotNull(oomLine, oom.toString());
            assertTrue(oomLine.matches("cannot honour the run's recipe: executor driver ran out of memory decoding 2 "
                    + "rows per network call \\(B\\) of 64x64 images: estimated [0-9.]+ MiB a row, [0-9]+ MiB a call, "
                    + "memory budget none \\(CPU\\); set a smaller --rows-per-call, or a smaller --memory-budget if B "
                    + "was automatic"), oomLine);
        } finally {
            System.clearProperty("mipflow.test.oom-above-rows");
            spark.stop();
            if (old == null) {
                System.clearProperty("mipflow.declare.cpu-flags");
            } else {
                System.setProperty("mipflow.declare.cpu-flags", old);
            }
        }
    }

    private static DecodeSettings with(DecodeSettings s, SamplerConfig sampler) {
        return new DecodeSettings(s.modelDir(), sampler, s.batching(), s.seed(), s.intraOpThreads(), null, s.limits(),
                null, s.metrics(), s.numerics(), s.features());
    }
}
