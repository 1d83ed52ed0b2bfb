package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/**
 * sample-data/token-latents is the token-decoder fixture's own input: the two latents of
 * {@code udf/src/test/resources/token-decoder/k3/expected.json} (ids tok-a, tok-b, as
 * ARRAY&lt;FLOAT&gt;, T x D token-major), the data of the docs' "bring your own decoder" example.
 * No reference column: decoded with {@code --seed 7} the images are within one 8-bit level of
 * the fixture's reference decodes (TokenDecodeTest), mostly equal, and an image equal to its
 * reference has an infinite PSNR, which today's commit record cannot hold.
 * With {@code -Dmipflow.write.token-sample=true} this test first writes the data set (after
 * regenerating the fixture).
 */
class TokenSampleDataTest {
    static final Path MODEL = ChildJvm.ROOT.resolve("udf/src/test/resources/token-decoder/k3");
    static final Path SAMPLE = ChildJvm.ROOT.resolve("sample-data/token-latents");

    record Expected(List<String> ids, float[][] latents) {}

    static Expected expected() throws Exception {
        JsonObject e = JsonParser.parseString(Files.readString(MODEL.resolve("expected.json"))).getAsJsonObject();
        var shape = e.getAsJsonArray("contextShape");
        int n = shape.get(0).getAsInt();
        int td = shape.get(1).getAsInt() * shape.get(2).getAsInt();
        List<String> ids = new ArrayList<>();
        e.getAsJsonArray("ids").forEach(id -> ids.add(id.getAsString()));
        float[][] latents = new float[n][td];
        var c = e.getAsJsonArray("contexts");
        for (int i = 0; i < n * td; i++) {
            latents[i / td][i % td] = c.get(i).getAsFloat();
        }
        return new Expected(ids, latents);
    }

    @Test
    void sampleDataIsTheFixturesInput() throws Exception {
        Expected want = expected();
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-token-sample");
        try {
            if (Boolean.getBoolean("mipflow.write.token-sample")) {
                List<Row> rows = new ArrayList<>();
                for (int r = 0; r < want.ids().size(); r++) {
                    rows.add(RowFactory.create(want.ids().get(r), want.latents()[r]));
                }
                spark.createDataFrame(rows, DataTypes.createStructType(List.of(
                        DataTypes.createStructField("id", DataTypes.StringType, false),
                        DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), false))))
                        .coalesce(1).write().mode(SaveMode.Overwrite).parquet(SAMPLE.toString());
            }
            var data = spark.read().parquet(SAMPLE.toString());
            assertEquals(List.of("id", "latent"), List.of(data.columns()));
            List<Row> got = data.orderBy("id").collectAsList();
            assertEquals(want.ids(), got.stream().map(r -> r.<String>getAs("id")).toList());
            for (int r = 0; r < got.size(); r++) {
                List<Float> l = got.get(r).getList(got.get(r).fieldIndex("latent"));
                float[] latent = new float[l.size()];
                for (int i = 0; i < latent.length; i++) {
                    latent[i] = l.get(i);
                }
                assertArrayEquals(want.latents()[r], latent, want.ids().get(r) + ": latent");
            }
        } finally {
            spark.stop();
        }
    }
}
