package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.SparkTestSession;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.FeatureFixture;
import org.mipflow.jobs.TestModels;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.model.FeatureNet;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.FeatureSettings;

/**
 * rFID and KID computed by the decode job itself: the same figure from 1 partition and from 7, equal
 * to the figure computed directly from the images as written, and withheld with a reason (images
 * still written) when the feature network is out of contract or there are too few images.
 */
class FeatureFiguresTest {
    static final int ROWS = 70;
    static final long SEED = 3;

    static SparkSession session(int cores) {
        return SparkTestSession.startSmallShuffles("local[" + cores + "]", "mipflow-features");
    }

    static StructType schema() {
        return DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), false),
                DataTypes.createStructField("latent_c", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_h", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_w", DataTypes.IntegerType, false),
                DataTypes.createStructField("reference", DataTypes.BinaryType, false)));
    }

    static List<Row> rows(int n) throws Exception {
        SplittableRandom rnd = new SplittableRandom(9);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < n; r++) {
            float[] z = new float[4 * 8 * 8];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) rnd.nextGaussian();
            }
            rows.add(RowFactory.create("img-" + r, z, 4, 8, 8, FeatureFixture.referencePng(r)));
        }
        return rows;
    }

    static DecodeSettings settings(Path model, Path network) {
        return new DecodeSettings(model.toString(), SamplerConfig.of(SamplingMode.ONESTEP, 3), 0, SEED, 1, null,
                RowLimits.DEFAULT, null).withFeatures(FeatureSettings.of(network, 50));
    }

    @Test
    void theFigureDoesNotDependOnPartitionsAndIsTheOneOfTheImagesAsWritten(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        DecodeSettings s = settings(model, FeatureFixture.NETWORK);
        String one = tmp.resolve("one-shard").toString();
        String seven = tmp.resolve("seven-shards").toString();
        SparkSession spark = session(1);
        FeatureStats.Figures a;
        try {
            spark.createDataFrame(rows(ROWS), schema()).coalesce(1).write().parquet(one);
            spark.createDataFrame(rows(ROWS), schema()).repartition(7).write().parquet(seven);
            a = DecodeJob.run(spark, DecodeJob.Request.of(List.of(one), tmp.resolve("out-1").toString(), s))
                    .features(); // one task slot, one file: one partition
        } finally {
            spark.stop();
        }
        spark = session(2);
        try {
            FeatureStats.Figures b = DecodeJob.run(spark,
                    DecodeJob.Request.of(List.of(seven), tmp.resolve("out-7").toString(), s)).features(); // 7 partitions
            assertNull(a.problem(), a.problem());
            assertEquals(ROWS, a.images());
            assertEquals(50, a.kidImages());
            assertEquals(a.images(), b.images());
            assertEquals(a.rfid(), b.rfid(), 1e-9 * Math.abs(a.rfid()));
            assertEquals(a.kid(), b.kid(), 1e-9 * Math.abs(a.kid()));
            assertEquals(a.kidStd(), b.kidStd(), 1e-9 * Math.abs(a.kidStd()));

            // The same figure from the PNGs as written and the references, outside Spark.
            FeatureStats direct = new FeatureStats(16, 50, SEED);
            try (FeatureNet net = FeatureNet.load(FeatureFixture.NETWORK, Device.cpu())) {
                for (Row r : spark.read().parquet(tmp.resolve("out-7") + "/images").collectAsList()) {
                    String id = r.getAs("id");
                    int i = Integer.parseInt(id.substring("img-".length()));
                    direct.add(id, net.of(bytes(ImageCodec.read((byte[]) r.getAs("image"), 1 << 20)), 64, 64),
                            net.of(bytes(ImageCodec.read(FeatureFixture.referencePng(i), 1 << 20)), 64, 64));
                }
            }
            FeatureStats.Figures d = direct.figures();
            assertEquals(d.rfid(), b.rfid(), 1e-9 * Math.abs(d.rfid()));
            assertEquals(d.kid(), b.kid(), 1e-9 * Math.abs(d.kid()));
            JsonObject summary = JsonParser.parseString(Files.readString(tmp.resolve("out-7/summary.json")))
                    .getAsJsonObject();
            assertEquals(b.rfid(), summary.get("rfid").getAsDouble());
            assertEquals(ROWS, summary.get("rfid_images").getAsLong());
            assertEquals(FeatureSettings.of(FeatureFixture.NETWORK, 50).sha256(),
                    summary.get("features_sha256").getAsString());
            assertTrue(summary.get("features_error").isJsonNull());
        } finally {
            spark.stop();
        }
    }

    private static float[] bytes(java.awt.image.BufferedImage img) {
        float[] p = ImageOps.toPlanar(img);
        for (int k = 0; k < p.length; k++) {
            p[k] = ImageOps.toByte(p[k]);
        }
        return p;
    }

    @Test
    void aBadNetworkOrTooFewImagesWithholdTheFiguresAndKeepTheImages(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        SparkSession spark = session(2);
        try {
            String in = tmp.resolve("in").toString();
            spark.createDataFrame(rows(6), schema()).coalesce(1).write().parquet(in);
            DecodeJob.Summary bad = DecodeJob.run(spark, DecodeJob.Request.of(List.of(in), tmp.resolve("bad").toString(),
                    settings(model, FeatureFixture.DIR.resolve("bad-shape"))));
            assertEquals(6, bad.decoded(), "images are written whatever the feature network does");
            assertEquals(6, spark.read().parquet(tmp.resolve("bad") + "/images").count());
            assertNull(bad.features().rfid());
            assertNotNull(bad.features().problem());
            assertTrue(bad.features().problem().contains("(1, 8)"), bad.features().problem());

            DecodeJob.Summary nan = DecodeJob.run(spark, DecodeJob.Request.of(List.of(in), tmp.resolve("nan").toString(),
                    settings(model, FeatureFixture.DIR.resolve("nan"))));
            assertEquals(6, nan.decoded());
            assertNull(nan.features().kid());
            assertTrue(nan.features().problem().contains("non-finite"), nan.features().problem());

            String single = tmp.resolve("single").toString();
            spark.createDataFrame(rows(1), schema()).write().parquet(single);
            DecodeJob.Summary one = DecodeJob.run(spark, DecodeJob.Request.of(List.of(single),
                    tmp.resolve("one").toString(), settings(model, FeatureFixture.NETWORK)));
            assertEquals(1, one.decoded());
            assertNull(one.features().rfid());
            assertTrue(one.features().problem().contains("at least 2"), one.features().problem());
        } finally {
            spark.stop();
        }
    }
}
