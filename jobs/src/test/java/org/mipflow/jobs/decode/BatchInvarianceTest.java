package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.SparkTestSession;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * docs/bytes.md's promise on the default path: for a given number of rows per network call, an
 * image's bytes depend only on (seed, id). The shipped model and the sample latents (256 px), the
 * default numerics and fp32/nchw, two rows per call, decoded in task batches of 1, 3 and auto
 * (so alone and padded, or beside other rows), and as 1 shard and as 3 shards: byte for byte the
 * same.
 */
class BatchInvarianceTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static String threeShards;

    @BeforeAll
    static void setUp() {
        // One task slot, so each task runs libtorch on both cores: with two threads its kernels'
        // results depended on the batch (one thread hid it), which is what this test must catch.
        spark = SparkTestSession.start("local[1]", "mipflow-invariance");
        threeShards = tmp.resolve("three").toString();
        spark.read().parquet(oneShard()).repartition(3).write().parquet(threeShards);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static String oneShard() {
        return Path.of("../sample-data/latents").toAbsolutePath().toString();
    }

    static Map<String, byte[]> decode(String precision, int batch, String input, String name) throws Exception {
        DecodeSettings s = new DecodeSettings(Path.of("../models/default").toAbsolutePath().toString(),
                SamplerConfig.of(SamplingMode.ONESTEP, 3), new Batching(batch, 2, 0), 0, 0, null, RowLimits.DEFAULT,
                null, MetricSet.DEFAULT, new NumericPath.Request(precision, precision.equals("fp32") ? "nchw" : "auto"));
        String out = tmp.resolve(precision + "-" + name).toString();
        DecodeJob.run(spark, List.of(input), out, s);
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
            m.put(r.getAs("id"), r.getAs("image"));
        }
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"auto", "fp32"})
    void sameBytesWhateverTheBatchAndTheShards(String precision) throws Exception {
        Map<String, byte[]> reference = decode(precision, 1, oneShard(), "batch1");
        assertEquals(3, reference.size());
        Map<String, Map<String, byte[]>> others = Map.of(
                "task batch 3", decode(precision, 3, oneShard(), "batch3"),
                "task batch auto", decode(precision, 0, oneShard(), "auto"),
                "3 shards, task batch auto", decode(precision, 0, threeShards, "shards"));
        for (var e : others.entrySet()) {
            assertEquals(reference.keySet(), e.getValue().keySet(), e.getKey());
            for (String id : reference.keySet()) {
                assertArrayEquals(reference.get(id), e.getValue().get(id), precision + ", " + e.getKey() + ": " + id);
            }
        }
    }
}
