package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * Spark's local-cluster mode: a standalone master and worker in this JVM launch two real executor
 * JVMs, with GPU resource scheduling. Each executor loads the model once for all its tasks, the
 * GPU Spark assigned reaches the decoder (which falls back to the CPU here, saying why), and the
 * images are byte-identical to a local-mode run.
 */
class LocalClusterTest {
    static final int SHARDS = 4;

    @Test
    void twoExecutorJvmsLoadTheModelOnceEachAndGiveLocalModeBytes(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        DecodeSettings s = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.MULTISCALE, 2,
                new int[] {2, 1, 1}), 2, 5, 1, null, RowLimits.DEFAULT, null);
        String input = tmp.resolve("latents").toString();
        Map<String, byte[]> local;
        SparkSession spark = ExecutorCountTest.session("local[2]");
        try {
            EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()),
                    tmp.resolve("encoded").toString(), s, 64, 1);
            // SHARDS copies of the 3 images under new ids, one file each: one task per shard.
            var encoded = spark.read().parquet(tmp.resolve("encoded").toString());
            for (int i = 0; i < SHARDS; i++) {
                encoded.withColumn("id", org.apache.spark.sql.functions.concat(
                                org.apache.spark.sql.functions.col("id"), org.apache.spark.sql.functions.lit("-" + i)))
                        .coalesce(1).write().parquet(input + "/part" + i);
            }
            DecodeJob.run(spark, List.of(input), tmp.resolve("local").toString(), s);
            local = images(spark, tmp.resolve("local").toString());
        } finally {
            spark.stop();
        }

        SparkSession cluster = clusterSession(gpuDiscoveryScript(tmp));
        try {
            DecodeJob.Summary sm = DecodeJob.run(cluster, List.of(input), tmp.resolve("cluster").toString(), s);
            assertEquals(3 * SHARDS, sm.decoded());
            assertEquals(3, cluster.sparkContext().statusTracker().getExecutorInfos().length,
                    "driver + 2 executors");
            assertTrue(sm.modelLoads().size() >= 1 && sm.modelLoads().size() <= 2,
                    sm.modelLoads() + " model loads for " + SHARDS + " tasks on 2 executor JVMs");
            // Each task was scheduled with the (pretend) GPU 0; this libtorch has no CUDA, so the
            // decoder says why it fell back to the CPU.
            for (String device : sm.modelLoads()) {
                assertTrue(device.startsWith("cpu (Spark assigned GPU 0"), device);
            }
            Map<String, byte[]> remote = images(cluster, tmp.resolve("cluster").toString());
            assertEquals(local.keySet(), remote.keySet());
            for (String id : local.keySet()) {
                assertArrayEquals(local.get(id), remote.get(id), id);
            }
        } finally {
            cluster.stop();
        }
    }

    /**
     * Two executors of one core and 1 GiB. Their JVMs get the test class path and the project's
     * JVM options; SPARK_HOME (set by the build) only needs the layout the launcher checks.
     */
    static SparkSession clusterSession(Path gpuDiscovery) throws Exception {
        Path home = Path.of(System.getenv("SPARK_HOME"));
        Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "Spark test home for local-cluster mode\n");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path root = Path.of("..").toAbsolutePath().normalize();
        String jvmOptions = String.join(" ", Files.readAllLines(root.resolve("conf/jvm-options")))
                + " -Dai.djl.offline=true -Dlog4j2.configurationFile=" + root.resolve("conf/log4j2.properties");
        return SparkSession.builder().master("local-cluster[2,1,1024]").appName("mipflow-local-cluster")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.executor.extraClassPath", cp)
                .config("spark.executor.extraJavaOptions", jvmOptions)
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13")
                .config("spark.executorEnv.ENGINE_CACHE_DIR", System.getenv("ENGINE_CACHE_DIR"))
                // GPU scheduling as on a GPU cluster (conf/spark-defaults-gpu.conf): one GPU per
                // worker and executor, each task takes it.
                .config("spark.worker.resource.gpu.amount", "1")
                .config("spark.worker.resource.gpu.discoveryScript", gpuDiscovery.toString())
                .config("spark.executor.resource.gpu.amount", "1")
                .config("spark.executor.resource.gpu.discoveryScript", gpuDiscovery.toString())
                .config("spark.task.resource.gpu.amount", "1")
                .getOrCreate();
    }

    /** A discovery script that reports one GPU, address 0, in the format Spark expects. */
    static Path gpuDiscoveryScript(Path dir) throws Exception {
        Path script = dir.resolve("gpus.sh");
        Files.writeString(script, "#!/bin/sh\necho '{\"name\": \"gpu\", \"addresses\": [\"0\"]}'\n");
        script.toFile().setExecutable(true);
        return script;
    }

    static Map<String, byte[]> images(SparkSession spark, String out) {
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
            m.put(r.getAs("id"), r.getAs("image"));
        }
        return m;
    }
}
