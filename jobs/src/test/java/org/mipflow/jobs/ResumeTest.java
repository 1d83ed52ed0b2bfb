package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.output.OutputLease;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.FeatureSettings;

/**
 * A decode over 200 one-row shards, committed in waves of 20 shards, run with --overwrite over an
 * earlier run's output and killed with SIGKILL midway, then rerun with --resume over the same
 * output: the dead run's lease is taken over, committed shards are skipped, and the output holds
 * every id exactly once with the bytes of an uninterrupted run, nothing of the earlier run, and
 * the rFID and KID of an uninterrupted run (the committed waves' feature statistics carry over).
 */
class ResumeTest {
    static final int SHARDS = 200;
    static final int ROWS_PER_SHARD = 1;
    static final int SHARDS_PER_WAVE = 20;
    static final int KID_SAMPLE = 50;

    @Test
    void killedRunResumesWithEveryIdOnce(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-resume");
        try {
            Path input = writeShards(spark, tmp.resolve("input"), SHARDS, "img-");
            DecodeSettings s = new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 2, 7, 1,
                    null, RowLimits.DEFAULT, null).withFeatures(FeatureSettings.of(FeatureFixture.NETWORK, KID_SAMPLE));
            String clean = tmp.resolve("clean").toString();
            FeatureStats.Figures uninterrupted = DecodeJob.run(spark, List.of(input.toString()), clean, s).features();

            // The killed run is an --overwrite over an earlier run's output, which must not survive the resume.
            Path out = tmp.resolve("killed");
            Path old = writeShards(spark, tmp.resolve("old-input"), 3, "old-");
            DecodeJob.run(spark, List.of(old.toString()), out.toString(), s);
            int waves = runAndKillAfterFirstCommit(input, out, model);
            int committed = waves * SHARDS_PER_WAVE;
            assertTrue(committed >= 1 && committed < SHARDS, "kill landed midway: " + committed + " committed");
            assertTrue(Files.exists(out.resolve(OutputLease.FILE)), () -> "a SIGKILLed run leaves its lease behind: "
                    + java.util.Arrays.toString(out.toFile().list()) + " " + readLog(out));

            // At once: the lease names a process of this host that is gone, so it is taken over without waiting.
            DecodeJob.Summary sm = DecodeJob.run(spark, List.of(input.toString()), out.toString(), s, false, true);
            assertFalse(Files.exists(out.resolve(OutputLease.FILE)), "released at the end");
            assertEquals(committed, sm.resumedShards(), "committed shards are skipped");
            assertEquals(SHARDS, sm.perShard().size());
            assertEquals(SHARDS * ROWS_PER_SHARD, sm.inputRows());
            assertEquals(SHARDS * ROWS_PER_SHARD, sm.decoded());
            assertNull(sm.features().problem(), sm.features().problem());
            assertEquals(SHARDS * ROWS_PER_SHARD, sm.features().images(), "rFID over every image, resumed ones too");
            assertEquals(uninterrupted.rfid(), sm.features().rfid(), 1e-9 * Math.abs(uninterrupted.rfid()));
            assertEquals(uninterrupted.kid(), sm.features().kid(), 1e-9 * Math.abs(uninterrupted.kid()));
            assertEquals(uninterrupted.kidStd(), sm.features().kidStd(), 1e-9 * Math.abs(uninterrupted.kidStd()));
            assertFalse(Files.exists(out.resolve("_staging")), "staging left behind");
            Map<String, byte[]> resumed = images(spark, out.toString());
            Map<String, byte[]> expected = images(spark, clean);
            assertEquals(expected.keySet(), resumed.keySet());
            for (String id : expected.keySet()) {
                assertArrayEquals(expected.get(id), resumed.get(id), id);
            }
            assertEquals(0, spark.read().parquet(out + "/errors").count());
        } finally {
            spark.stop();
        }
    }

    /** Runs {@code mipflow decode} in its own JVM and SIGKILLs it once a wave is committed; the waves committed. */
    private static int runAndKillAfterFirstCommit(Path input, Path out, Path model) throws Exception {
        List<String> cmd = ChildJvm.java("2g", ChildJvm.testClassPath());
        cmd.addAll(List.of(Main.class.getName(), "decode",
                "--input", input.toString(), "--out", out.toString(), "--model", model.toString(),
                "--mode", "onestep", "--batch-size", "2", "--seed", "7",
                "--threads", "1", "--master", "local[1]", "--overwrite",
                "--wave-rows", Integer.toString(SHARDS_PER_WAVE * ROWS_PER_SHARD),
                "--features", FeatureFixture.NETWORK.toString(), "--kid-sample", Integer.toString(KID_SAMPLE)));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(out.resolveSibling("child.log").toFile()).start();
        Path commits = out.resolve("_commits");
        String earlier = earlierRun(commits);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try {
            while (count(commits, earlier) == 0) {
                assertTrue(p.isAlive(), "child exited before committing a shard: "
                        + Files.readString(out.resolveSibling("child.log")));
                assertTrue(System.nanoTime() < deadline, "no shard committed in 120 s");
                Thread.sleep(10);
            }
        } finally {
            p.destroyForcibly();
            p.waitFor();
        }
        return count(commits, earlier);
    }

    private static String readLog(Path out) {
        try {
            return Files.readString(out.resolveSibling("child.log"));
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** Commit records under {@code commits} whose run id starts with {@code run} (the earlier run's do not). */
    private static int count(Path commits, String run) throws Exception {
        if (!Files.isDirectory(commits)) {
            return 0;
        }
        try (var st = Files.list(commits)) {
            return (int) st.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith(".json") && !n.startsWith(".") && (run == null || !n.startsWith(run)))
                    .count();
        }
    }

    /** The run id in the commit records already under {@code commits}, or null. */
    private static String earlierRun(Path commits) throws Exception {
        if (!Files.isDirectory(commits)) {
            return null;
        }
        try (var st = Files.list(commits)) {
            return st.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("run-"))
                    .map(n -> n.substring(0, "run-".length() + 8)).findFirst().orElse(null);
        }
    }

    /** {@code shards} one-file shards of ROWS_PER_SHARD random 8x8 latents for the tiny test model (4 channels). */
    static Path writeShards(SparkSession spark, Path input, int shards, String idPrefix) throws java.io.IOException {
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), false),
                DataTypes.createStructField("latent_c", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_h", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_w", DataTypes.IntegerType, false),
                DataTypes.createStructField("reference", DataTypes.BinaryType, false)));
        SplittableRandom rnd = new SplittableRandom(3);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < shards * ROWS_PER_SHARD; r++) {
            float[] z = new float[4 * 8 * 8];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) rnd.nextGaussian();
            }
            rows.add(RowFactory.create(idPrefix + r, z, 4, 8, 8, FeatureFixture.referencePng(r)));
        }
        // Round-robin: exactly ROWS_PER_SHARD rows in each of the files, written by one job.
        spark.createDataFrame(rows, schema).repartition(shards).write().parquet(input.toString());
        return input;
    }

    static Map<String, byte[]> images(SparkSession spark, String out) {
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
            assertNull(m.put(r.getAs("id"), r.getAs("image")), "id twice: " + r.getAs("id"));
        }
        return m;
    }
}
