package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

/** The same latents decoded with one and with three concurrent tasks give the same PNG bytes. */
class ExecutorCountTest {
    static SparkSession session(String master) {
        return SparkTestSession.start(master, "mipflow-" + master);
    }

    static Map<String, byte[]> decode(String master, Path tmp, Path model, String latents, String name) throws Exception {
        SparkSession spark = session(master);
        try {
            DecodeSettings s = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.MULTISCALE, 2,
                    new int[] {2, 1, 1}), 2, 11, 1, null, RowLimits.DEFAULT, null);
            if (latents != null) {
                String out = tmp.resolve(name).toString();
                DecodeJob.run(spark, List.of(latents), out, s);
                Map<String, byte[]> m = new HashMap<>();
                for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
                    m.put(r.getAs("id"), r.getAs("image"));
                }
                return m;
            }
            EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()),
                    tmp.resolve("latents").toString(), s, 64, 3);
            return Map.of();
        } finally {
            spark.stop();
        }
    }

    @Test
    void bytesDoNotDependOnConcurrentTasks(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        decode("local[1]", tmp, model, null, "encode");
        String latents = tmp.resolve("latents").toString();
        Map<String, byte[]> one = decode("local[1]", tmp, model, latents, "one");
        Map<String, byte[]> three = decode("local[3]", tmp, model, latents, "three");
        assertEquals(3, one.size());
        assertEquals(one.keySet(), three.keySet());
        for (String id : one.keySet()) {
            assertArrayEquals(one.get(id), three.get(id), id);
        }
    }
}
