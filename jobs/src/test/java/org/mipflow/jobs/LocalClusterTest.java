package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.encode.EncodeJob;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * The thin job jar submitted with SparkSubmit and conf/spark-defaults-cpu.conf to Spark's
 * local-cluster mode: a standalone master and worker launch two real executor JVMs, which fetch
 * the jar from the driver, with GPU resource scheduling. Each executor loads the model once for
 * all its tasks, the GPU Spark assigned reaches the decoder (which falls back to the CPU here and
 * says why), and the images are byte-identical to a local-mode run.
 */
class LocalClusterTest {
    static final int SHARDS = 4;
    static final String[] DECODE = {"--mode", "multiscale", "--stage-steps", "2,1,1", "--batch-size", "2", "--seed", "5",
        "--threads", "1"};

    @Test
    void submittedJarOnTwoExecutorsLoadsTheModelOncePerJvmAndGivesLocalModeBytes(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        DecodeSettings s = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.MULTISCALE, 50,
                new int[] {2, 1, 1}), 2, 5, 1, null, RowLimits.DEFAULT, null);
        String input = tmp.resolve("latents").toString();
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
            // the numerics the cluster's recipe resolves to (one executor there has no native bf16)
            DecodeJob.run(spark, List.of(input), tmp.resolve("local").toString(), new DecodeSettings(s.modelDir(),
                    s.sampler(), s.batching(), s.seed(), 1, null, s.limits(), null, s.metrics(),
                    new org.mipflow.model.NumericPath.Request("fp32", "nhwc")));

            Path out = tmp.resolve("cluster");
            assertEquals(0, submit(tmp, model, input, out, List.of()), () -> log(tmp));
            JsonObject summary = JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject();
            // Executor 0 declares native bf16, executor 1 not: one recipe for both, fp32 (#29).
            assertEquals("fp32/nhwc", summary.getAsJsonObject("recipe").get("numerics").getAsString());
            assertTrue(log(tmp).contains("executor 0: cpu, native bf16")
                    && log(tmp).contains("executor 1: cpu, no native bf16"), () -> log(tmp));
            assertEquals(3 * SHARDS, summary.get("decoded").getAsLong());
            List<String> devices = summary.getAsJsonArray("model_devices").asList().stream()
                    .map(JsonElement::getAsString).toList();
            assertTrue(devices.size() >= 1 && devices.size() <= 2,
                    devices + ": model loads for " + SHARDS + " tasks on 2 executor JVMs");
            for (String device : devices) {
                assertTrue(device.startsWith("cpu (Spark assigned GPU 0"), device);
                assertTrue(device.contains("fp32/nhwc"), device);
            }
            Map<String, byte[]> local = images(spark, tmp.resolve("local").toString());
            Map<String, byte[]> remote = images(spark, out.toString());
            assertEquals(local.keySet(), remote.keySet());
            for (String id : local.keySet()) {
                assertArrayEquals(local.get(id), remote.get(id), id);
            }

            // A recipe in bf16: executor 1, without native bf16, refuses its task in one line (no retry here).
            Path bf16 = tmp.resolve("cluster-bf16");
            assertEquals(2, submit(tmp, model, input, bf16, List.of("--precision", "bf16")), () -> log(tmp));
            String line = log(tmp).lines().filter(l -> l.startsWith("mipflow decode: error:")).findFirst().orElse("");
            assertEquals("mipflow decode: error: cannot honour the run's recipe: executor 1 has no native bf16 (CPU has "
                    + "neither avx512_bf16 nor amx_bf16, declared by -Dmipflow.declare.cpu-flags) and the recipe "
                    + "computes in bf16/nhwc; run with --precision fp32 (or auto, which picks fp32 unless every "
                    + "executor has native bf16)", line, () -> log(tmp));
        } finally {
            spark.stop();
        }
    }

    /**
     * Runs {@code spark-submit --class org.mipflow.jobs.Main thin.jar decode ...} in its own JVM.
     * Neither that JVM nor the executors have the jobs classes on their class path: they come
     * from the submitted jar. SPARK_HOME (set by the build) only needs the layout the launcher checks.
     */
    static String log(Path tmp) {
        try {
            return Files.readString(tmp.resolve("spark-submit.log"));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    /**
     * The executors declare their CPUs through the documented test seam: executor 0 with native
     * bf16, executor 1 without. Returns the exit code; the output is in spark-submit.log. Task
     * failures are not retried, so that a task's refusal ends the run.
     */
    static int submit(Path tmp, Path model, String input, Path out, List<String> more) throws Exception {
        Path home = Path.of(System.getenv("SPARK_HOME"));
        Files.createDirectories(home.resolve("jars"));
        Files.writeString(home.resolve("RELEASE"), "Spark test home for local-cluster mode\n");
        String cp = ChildJvm.classPathWithoutThisModule();
        Path jar = thinJar(Path.of("target/classes").toAbsolutePath(), tmp.resolve("mipflow-jobs-thin.jar"));
        Path gpus = tmp.resolve("gpus.sh");
        Files.writeString(gpus, "#!/bin/sh\necho '{\"name\": \"gpu\", \"addresses\": [\"0\"]}'\n");
        gpus.toFile().setExecutable(true);

        List<String> cmd = ChildJvm.java("1g", cp);
        cmd.addAll(List.of("org.apache.spark.deploy.SparkSubmit",
                "--master", "local-cluster[2,1,1024]",
                "--properties-file", ChildJvm.ROOT.resolve("conf/spark-defaults-cpu.conf").toString(),
                "--class", "org.mipflow.jobs.Main",
                // The cluster file's sizes are for real nodes; these fit two one-core test workers.
                "--conf", "spark.executor.cores=1", "--conf", "spark.task.cpus=1", "--conf", "spark.executor.memory=1g",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.ui.enabled=false",
                "--conf", "spark.executor.extraClassPath=" + cp,
                "--conf", "spark.executor.extraJavaOptions=" + String.join(" ", ChildJvm.jvmOptions())
                        + " -Dmipflow.declare.cpu-flags.0=avx512_bf16 -Dmipflow.declare.cpu-flags.1=sse2",
                "--conf", "spark.task.maxFailures=1",
                // the recipe's probe job starts once both executors are registered (standalone waits for none)
                "--conf", "spark.scheduler.minRegisteredResourcesRatio=1.0",
                "--conf", "spark.executorEnv.SPARK_SCALA_VERSION=2.13",
                "--conf", "spark.executorEnv.ENGINE_CACHE_DIR=" + System.getenv("ENGINE_CACHE_DIR"),
                // GPU scheduling as in conf/spark-defaults-gpu.conf: one GPU per worker and executor.
                "--conf", "spark.worker.resource.gpu.amount=1",
                "--conf", "spark.worker.resource.gpu.discoveryScript=" + gpus,
                "--conf", "spark.executor.resource.gpu.amount=1",
                "--conf", "spark.executor.resource.gpu.discoveryScript=" + gpus,
                "--conf", "spark.task.resource.gpu.amount=1",
                jar.toString(), "decode", "--input", input, "--out", out.toString(), "--model", model.toString()));
        cmd.addAll(List.of(DECODE));
        cmd.addAll(more);
        Path log = tmp.resolve("spark-submit.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(240, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        assertTrue(done, "spark-submit timed out:\n" + Files.readString(log));
        return p.exitValue();
    }

    /** The jobs module's classes as a jar, as `mvn package` makes it (no dependencies inside). */
    static Path thinJar(Path classes, Path jar) throws Exception {
        try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, j);
                j.closeEntry();
            }
        }
        return jar;
    }

    static Map<String, byte[]> images(SparkSession spark, String out) {
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
            m.put(r.getAs("id"), r.getAs("image"));
        }
        return m;
    }
}
