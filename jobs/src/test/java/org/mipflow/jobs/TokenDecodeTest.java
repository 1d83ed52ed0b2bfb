package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.ImageOps;
import org.mipflow.spark.LatentDecoder;

/**
 * A token decoder of the method's authors' kind through {@code mipflow decode} and through the
 * Transformer: token latents as ARRAY<FLOAT>, BINARY float32 and ARRAY<ARRAY<FLOAT>> give the
 * reference sampler's images (within one 8-bit level; its seed, 7) with the model's default
 * guidance (W = 2) and 10 steps per stage; rows of the wrong shape go to errors naming the shape the model takes.
 */
class TokenDecodeTest {
    static final Path MODEL = Path.of("../udf/src/test/resources/token-decoder/k3").toAbsolutePath().normalize();
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static JsonObject expected;
    static float[][] contexts;
    static int[] want8;

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkTestSession.start("local[2]", "mipflow-tokens");
        expected = JsonParser.parseString(Files.readString(MODEL.resolve("expected.json"))).getAsJsonObject();
        contexts = contexts(expected);
        for (var d : expected.getAsJsonArray("decodes")) {
            JsonObject o = d.getAsJsonObject();
            if (o.get("stepsPerStage").getAsInt() == 10 && o.get("cfgScale").getAsDouble() == 2.0) {
                want8 = eightBit(o.getAsJsonArray("images"));
            }
        }
    }

    static float[][] contexts(JsonObject e) {
        JsonArray c = e.getAsJsonArray("contexts");
        float[][] ctx = new float[2][128];
        for (int i = 0; i < 256; i++) {
            ctx[i / 128][i % 128] = c.get(i).getAsFloat();
        }
        return ctx;
    }

    static int[] eightBit(JsonArray img) {
        int[] b = new int[img.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = ImageOps.toByte(img.get(i).getAsFloat());
        }
        return b;
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static List<Object> nested(float[] z) {
        List<Object> rows = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            rows.add(java.util.Arrays.copyOfRange(z, t * 8, (t + 1) * 8));
        }
        return rows;
    }

    static byte[] float32(float[] z) {
        ByteBuffer b = ByteBuffer.allocate(4 * z.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : z) {
            b.putFloat(v);
        }
        return b.array();
    }

    /** The two good rows and the bad ones, with the latent in one encoding. */
    static Dataset<Row> input(String encoding) {
        DataType type = switch (encoding) {
            case "array" -> DataTypes.createArrayType(DataTypes.FloatType, false);
            case "nested" -> DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false), false);
            default -> DataTypes.BinaryType;
        };
        var fields = new ArrayList<>(List.of(DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("latent", type, true)));
        if (encoding.equals("float32")) {
            fields.add(DataTypes.createStructField("latent_dtype", DataTypes.StringType, true));
        }
        List<Row> rows = new ArrayList<>();
        String[] ids = {"tok-a", "tok-b"};
        for (int i = 0; i < 2; i++) {
            rows.add(row(encoding, ids[i], contexts[i]));
        }
        float[] short1 = java.util.Arrays.copyOf(contexts[0], 120);
        rows.add(row(encoding, "bad-length", short1));
        if (encoding.equals("nested")) {
            List<Object> ragged = nested(contexts[0]);
            ragged.set(3, new float[] {1f, 2f});
            rows.add(RowFactory.create("bad-ragged", ragged.toArray()));
        }
        return spark.createDataFrame(rows, DataTypes.createStructType(fields));
    }

    static Row row(String encoding, String id, float[] z) {
        return switch (encoding) {
            case "array" -> RowFactory.create(id, z);
            case "nested" -> z.length == 128 ? RowFactory.create(id, nested(z).toArray())
                    : RowFactory.create(id, nested(java.util.Arrays.copyOf(z, 128)).subList(0, 15).toArray());
            default -> RowFactory.create(id, float32(z), "float32");
        };
    }

    static void assertReference(Map<String, byte[]> pngs) throws Exception {
        assertReference(pngs, want8, "N=10 W=2");
    }

    /** Every decoded pixel within one 8-bit level of the reference's. */
    static void assertReference(Map<String, byte[]> pngs, int[] want8, String what) throws Exception {
        String[] ids = {"tok-a", "tok-b"};
        int px = 3 * 64 * 64;
        for (int r = 0; r < 2; r++) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(pngs.get(ids[r])));
            float[] planar = ImageOps.toPlanar(img);
            int off = 0;
            for (int i = 0; i < px; i++) {
                int got = ImageOps.toByte(planar[i]);
                off = Math.max(off, Math.abs(got - want8[r * px + i]));
            }
            assertTrue(off <= 1, what + " " + ids[r] + ": " + off + " 8-bit levels off the reference");
        }
    }

    @Test
    void decodeTakesTokenLatentsInEveryEncoding() throws Exception {
        List<String> encodings = List.of("array", "float32", "nested");
        for (String encoding : encodings) {
            input(encoding).coalesce(1).write().parquet(tmp.resolve("in-" + encoding).toString());
        }
        for (String encoding : encodings) {
            // the command stops the session it ran in (the test's): a new one for what follows
            assertEquals(0, Main.run(new String[] {"decode", "--input", tmp.resolve("in-" + encoding).toString(),
                "--out", tmp.resolve("out-" + encoding).toString(), "--model", MODEL.toString(),
                "--master", "local[2]", "--threads", "1", "--seed", "7"}), encoding);
        }
        // and the other corner of the grid through decode: K = 4, one step per stage, unguided
        assertEquals(0, Main.run(new String[] {"decode", "--input", tmp.resolve("in-array").toString(),
            "--out", tmp.resolve("out-k4").toString(), "--model", MODEL.resolveSibling("k4").toString(),
            "--stage-steps", "1", "--cfg-scale", "1", "--master", "local[2]", "--threads", "1", "--seed", "7"}));
        spark = SparkTestSession.start("local[2]", "mipflow-tokens");
        JsonObject k4 = JsonParser.parseString(Files.readString(MODEL.resolveSibling("k4").resolve("expected.json")))
                .getAsJsonObject();
        for (var d : k4.getAsJsonArray("decodes")) {
            JsonObject o = d.getAsJsonObject();
            if (o.get("stepsPerStage").getAsInt() == 1 && o.get("cfgScale").getAsDouble() == 1.0) {
                Map<String, byte[]> pngs = new HashMap<>();
                for (Row r : spark.read().parquet(tmp.resolve("out-k4") + "/images").collectAsList()) {
                    pngs.put(r.getAs("id"), r.getAs("image"));
                }
                assertReference(pngs, eightBit(o.getAsJsonArray("images")), "decode k4 N=1 W=1");
            }
        }
        for (String encoding : encodings) {
            String out = tmp.resolve("out-" + encoding).toString();
            Map<String, byte[]> pngs = new HashMap<>();
            for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
                pngs.put(r.getAs("id"), r.getAs("image"));
            }
            assertEquals(2, pngs.size(), encoding);
            assertReference(pngs);
            Map<String, String> errors = new HashMap<>();
            for (Row r : spark.read().parquet(out + "/errors").collectAsList()) {
                errors.put(r.getAs("id"), r.getAs("error"));
            }
            String shape = "the model takes 16 x 8 tokens (128 values)";
            assertTrue(errors.get("bad-length").contains(shape), encoding + ": " + errors);
            if (encoding.equals("nested")) {
                assertTrue(errors.get("bad-length").contains("latent has 15 tokens"), errors.toString());
                assertTrue(errors.get("bad-ragged").contains("latent token 3 has 2 values; " + shape),
                        errors.toString());
            }
            JsonObject summary = JsonParser.parseString(Files.readString(Path.of(out, "summary.json")))
                    .getAsJsonObject();
            assertEquals(2.0, summary.get("cfg_scale").getAsDouble());
            assertEquals("multiscale", summary.get("mode").getAsString());
            // B decides the bytes, so the summary says how it was set (LocalClusterTest: what executors made of it)
            assertEquals("auto", summary.get("rows_per_call").getAsString());
        }
    }

    /**
     * Every reference decode (K = 3 and 4, N = 1 and 10, W = 1 and 2) through the Transformer, on
     * the session already running; within one 8-bit level on every pixel.
     */
    @Test
    void everyReferenceDecodeThroughTheTransformer() throws Exception {
        for (String k : List.of("k3", "k4")) {
            Path model = MODEL.resolveSibling(k);
            JsonObject e = JsonParser.parseString(Files.readString(model.resolve("expected.json"))).getAsJsonObject();
            float[][] ctx = contexts(e);
            List<Row> rows = List.of(RowFactory.create("tok-a", ctx[0]), RowFactory.create("tok-b", ctx[1]));
            Dataset<Row> in = spark.createDataFrame(rows, DataTypes.createStructType(List.of(
                    DataTypes.createStructField("id", DataTypes.StringType, false),
                    DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), true))));
            for (var d : e.getAsJsonArray("decodes")) {
                JsonObject o = d.getAsJsonObject();
                int steps = o.get("stepsPerStage").getAsInt();
                double w = o.get("cfgScale").getAsDouble();
                LatentDecoder decoder = new LatentDecoder().setModelDir(model.toString()).setThreads(1).setSeed(7)
                        .setStageSteps(Integer.toString(steps)).setCfgScale(w);
                Map<String, byte[]> pngs = new HashMap<>();
                for (Row r : decoder.transform(in).collectAsList()) {
                    pngs.put(r.getAs("id"), r.getAs("image"));
                }
                assertReference(pngs, eightBit(o.getAsJsonArray("images")), k + " N=" + steps + " W=" + w);
            }
        }
    }

    @Test
    void theTransformerDecodesTheSameImages() throws Exception {
        LatentDecoder decoder = new LatentDecoder().setModelDir(MODEL.toString()).setThreads(1).setSeed(7);
        Map<String, byte[]> pngs = new HashMap<>();
        Map<String, String> errors = new HashMap<>();
        for (Row r : decoder.transform(input("nested")).collectAsList()) {
            if (r.getAs("error") == null) {
                pngs.put(r.getAs("id"), r.getAs("image"));
            } else {
                errors.put(r.getAs("id"), r.getAs("error"));
            }
        }
        assertEquals(2, pngs.size(), errors.toString());
        assertEquals(java.util.Set.of("bad-length", "bad-ragged"), errors.keySet());
        assertReference(pngs);
    }

    @Test
    void guidanceAndModesAreCheckedBeforeAnyWork() {
        CliTest.Result full = CliTest.run("decode", "--model", MODEL.toString(), "--mode", "full",
                "--out", tmp.resolve("never").toString());
        assertEquals(2, full.code());
        assertTrue(full.err().contains("was not trained for mode full"), full.err());
        CliTest.Result cfg = CliTest.run("decode", "--cfg-scale", "2", "--model", "../models/default",
                "--input", "../sample-data/latents", "--out", tmp.resolve("never2").toString());
        assertEquals(2, cfg.code());
        assertTrue(cfg.err().contains("has no null condition"), cfg.err());
    }
}
