package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.mipflow.io.ImageOps;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.model.Checksums;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * A decoder exported from PyTorch (the fixture of scripts/torch/make_fixture.py) decoded by the
 * Spark job in every mode: the PNGs hold the decodes PyTorch computed for the same latents and
 * noise, to the 8-bit grid.
 */
class TorchScriptDecodeTest {
    static final Path FIXTURE = Path.of("../udf/src/test/resources/torchscript").toAbsolutePath().normalize();
    static final StructType SCHEMA = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.StringType, false),
            DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), false),
            DataTypes.createStructField("latent_c", DataTypes.IntegerType, false),
            DataTypes.createStructField("latent_h", DataTypes.IntegerType, false),
            DataTypes.createStructField("latent_w", DataTypes.IntegerType, false)));
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static JsonObject expected;
    static String latents;

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkTestSession.start("local[2]", "mipflow-torchscript");
        expected = JsonParser.parseString(Files.readString(FIXTURE.resolve("expected.json"))).getAsJsonObject();
        JsonArray ids = expected.getAsJsonArray("ids");
        float[] z = floats(expected.getAsJsonArray("latents"));
        int per = z.length / ids.size();
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            rows.add(RowFactory.create(ids.get(i).getAsString(), Arrays.copyOfRange(z, i * per, (i + 1) * per), 4, 4, 4));
        }
        latents = tmp.resolve("latents").toString();
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(latents);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static DecodeSettings settings(Path model, SamplingMode mode) {
        JsonArray st = expected.getAsJsonArray("stageSteps");
        int[] steps = {st.get(0).getAsInt(), st.get(1).getAsInt(), st.get(2).getAsInt()};
        return new DecodeSettings(model.toString(), new SamplerConfig(mode, expected.get("fullSteps").getAsInt(), steps),
                2, expected.get("seed").getAsLong(), 1, null, RowLimits.DEFAULT, null);
    }

    @ParameterizedTest
    @EnumSource(SamplingMode.class)
    void sparkDecodeMatchesPyTorch(SamplingMode mode) throws Exception {
        String out = tmp.resolve("out-" + mode).toString();
        DecodeJob.Summary s = DecodeJob.run(spark, List.of(latents), out, settings(FIXTURE, mode));
        assertEquals(2, s.decoded());
        String key = mode.name().toLowerCase();
        float[] want = floats(expected.getAsJsonObject("modes").getAsJsonObject(key).getAsJsonArray("images"));
        JsonArray ids = expected.getAsJsonArray("ids");
        int px = 32 * 32;
        List<Row> images = spark.read().parquet(out + "/images").collectAsList();
        assertEquals(2, images.size());
        for (Row r : images) {
            int i = ids.asList().indexOf(new com.google.gson.JsonPrimitive((String) r.getAs("id")));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.getAs("image")));
            int worst = 0;
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int rgb = img.getRGB(x, y);
                    int[] got = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255};
                    for (int c = 0; c < 3; c++) {
                        int exp = ImageOps.toByte(want[i * 3 * px + c * px + y * 32 + x]);
                        worst = Math.max(worst, Math.abs(exp - got[c]));
                    }
                }
            }
            // Values within 1e-6 of PyTorch's may still round to the neighbouring 8-bit level.
            assertTrue(worst <= 1, mode + " " + r.getAs("id") + ": off by " + worst + " levels");
        }
    }

    @Test
    void rowsAModuleFailsOnGoToErrorsAndTheRestDecodes() throws Exception {
        Path model = tmp.resolve("fails");
        Files.createDirectories(model);
        String pt = "fails-on-large-latent.pt";
        Files.copy(FIXTURE.resolve(pt), model.resolve(pt));
        JsonObject m = JsonParser.parseString(Files.readString(FIXTURE.resolve("model.json"))).getAsJsonObject();
        m.addProperty("teacher", pt);
        m.remove("student");
        JsonObject sha = new JsonObject();
        sha.addProperty(pt, Checksums.sha256(model.resolve(pt)));
        m.add("sha256", sha);
        Files.writeString(model.resolve("model.json"), m.toString());

        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            float[] z = new float[64];
            Arrays.fill(z, i == 2 ? 1000f : 0.5f);
            rows.add(RowFactory.create("r" + i, z, 4, 4, 4));
        }
        String in = tmp.resolve("some-large").toString();
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(in);
        String out = tmp.resolve("out-fails").toString();
        DecodeJob.Summary s = DecodeJob.run(spark, List.of(in), out, settings(model, SamplingMode.MULTISCALE));
        assertEquals(3, s.decoded());
        List<Row> errors = spark.read().parquet(out + "/errors").collectAsList();
        assertEquals(1, errors.size());
        assertEquals("r2", errors.get(0).getAs("id"));
        assertTrue(((String) errors.get(0).getAs("error")).contains("latent out of range"),
                (String) errors.get(0).getAs("error"));
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) a.get(i).getAsDouble();
        }
        return f;
    }
}
