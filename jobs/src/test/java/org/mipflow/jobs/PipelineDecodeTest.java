package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.encode.EncodeJob;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.LatentDecoder;

/**
 * The Transformer in a Pipeline with a SQLTransformer, saved and loaded, gives the bytes of the
 * decode command; float16 and bfloat16 BINARY latents written by encode decode; neither changes
 * the caller's session. (The Transformer's own Params, handleInvalid and column contract are
 * udf's LatentDecoderTest.)
 */
class PipelineDecodeTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static String latents;

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkTestSession.start("local[2]", "mipflow-transformer");
        model = TestModels.tiny(tmp.resolve("model"));
        latents = tmp.resolve("latents").toString();
        EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()), latents,
                encodeSettings(), 64, 2);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static DecodeSettings encodeSettings() {
        return new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 2, 0, 1, null,
                RowLimits.DEFAULT, null);
    }

    static LatentDecoder decoder() {
        return new LatentDecoder().setModelDir(model.toString()).setMode("onestep").setSeed(9);
    }

    static Map<String, Row> byId(Dataset<Row> df) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : df.collectAsList()) {
            assertNull(m.put(r.getAs("id"), r), "id twice");
        }
        return m;
    }

    @Test
    void pipelineSavedAndLoadedGivesTheBytesOfDecode() throws Exception {
        DecodeSettings s = new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 0, 9, 0,
                null, RowLimits.DEFAULT, null);
        String out = tmp.resolve("decoded").toString();
        DecodeJob.run(spark, List.of(latents), out, s);
        Map<String, Row> expected = byId(spark.read().parquet(out + "/images"));

        SQLTransformer keep = new SQLTransformer().setStatement(
                "SELECT id, image, width, psnr, error FROM __THIS__ WHERE error IS NOT NULL OR psnr > 5");
        Pipeline p = new Pipeline().setStages(new PipelineStage[] {decoder(), keep});
        Dataset<Row> input = spark.read().parquet(latents);
        PipelineModel fitted = p.fit(input);
        String saved = tmp.resolve("pipeline").toString();
        fitted.write().overwrite().save(saved);
        PipelineModel loaded = PipelineModel.load(saved);
        Map<String, Row> got = byId(loaded.transform(input));
        assertEquals(expected.keySet(), got.keySet());
        for (String id : expected.keySet()) {
            assertNull(got.get(id).getAs("error"));
            assertArrayEquals((byte[]) expected.get(id).getAs("image"), got.get(id).getAs("image"), id);
            assertEquals((Double) expected.get(id).getAs("psnr"), got.get(id).<Double>getAs("psnr"), 1e-12);
        }
        LatentDecoder reread = (LatentDecoder) loaded.stages()[0];
        assertEquals(9L, reread.getOrDefault(reread.seed()));
        assertEquals(model.toString(), reread.getOrDefault(reread.modelDir()));
    }

    @Test
    void compactBinaryLatentsDecode() throws Exception {
        Map<String, Row> plain = byId(decoder().transform(spark.read().parquet(latents)));
        String f16 = tmp.resolve("latents-f16").toString();
        String bf16 = tmp.resolve("latents-bf16").toString();
        EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()), f16,
                encodeSettings(), 64, 2, LatentEncoding.FLOAT16);
        EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()), bf16,
                encodeSettings(), 64, 2, LatentEncoding.BFLOAT16);
        Dataset<Row> half = spark.read().parquet(f16);
        assertEquals("binary", half.schema().apply("latent").dataType().typeName());
        // float16 from its latent_dtype column; bfloat16 from the Param, with the column dropped.
        Map<String, Row> a = byId(decoder().transform(half));
        Map<String, Row> b = byId(decoder().setLatentDtype("bfloat16").transform(
                spark.read().parquet(bf16).drop("latent_dtype")));
        for (Map<String, Row> m : List.of(a, b)) {
            assertEquals(plain.keySet(), m.keySet());
            for (String id : plain.keySet()) {
                assertNull(m.get(id).getAs("error"), id);
                double d = Math.abs(m.get(id).<Double>getAs("psnr") - plain.get(id).<Double>getAs("psnr"));
                assertTrue(d < 1.0, id + ": PSNR moved by " + d + " dB");
            }
        }
    }

    @Test
    void theCallersSessionIsUntouched() throws Exception {
        String key = "spark.sql.sources.parallelPartitionDiscovery.parallelism";
        String before = spark.conf().get(key);
        spark.conf().set("spark.sql.files.maxRecordsPerFile", "7"); // a caller's own setting, seen by the job
        DecodeSettings s = new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 0, 9, 0,
                null, RowLimits.DEFAULT, null);
        DecodeJob.run(spark, List.of(latents), tmp.resolve("decoded-conf").toString(), s);
        decoder().transform(spark.read().parquet(latents)).collectAsList();
        assertEquals(before, spark.conf().get(key), "decode changed the caller's session");
        assertEquals("7", spark.conf().get("spark.sql.files.maxRecordsPerFile"));
        spark.conf().unset("spark.sql.files.maxRecordsPerFile");
    }
}
