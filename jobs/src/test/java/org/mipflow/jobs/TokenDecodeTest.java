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
 * A token decoder of the method's authors' kind with its one-step student, exported by
 * scripts/torch/export_mmdit.py, through {@code mipflow decode} and through the Transformer:
 * token latents as ARRAY<FLOAT>, BINARY float32 and ARRAY<ARRAY<FLOAT>> give the reference
 * sampler's images (within one 8-bit level; its seed, 7) in the default mode (auto: onestep, the
 * fastest the model declares) with the model's default guidance (W = 2); every reference decode
 * (multiscale and onestep, K = 3 and 4, W = 1 and 2) through the Transformer; rows of the wrong
 * shape go to errors naming the shape the model takes; summary.json and the dry run count the
 * forward passes and network rows per image.
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
        want8 = eightBit(reference(expected, "onestep", 1, 2.0).getAsJsonArray("images"));
    }

    /** The reference decode of a mode, steps per stage and W. */
    static JsonObject reference(JsonObject e, String mode, int steps, double w) {
        for (var d : e.getAsJsonArray("decodes")) {
            JsonObject o = d.getAsJsonObject();
            if (o.get("mode").getAsString().equals(mode) && o.get("stepsPerStage").getAsInt() == steps
                    && o.get("cfgScale").getAsDouble() == w) {
                return o;
            }
        }
        throw new AssertionError("no reference decode " + mode + " N=" + steps + " W=" + w);
    }

    /** What a command prints on stdout, and its exit code. */
    static String stdout(String... args) {
        java.io.PrintStream old = System.out;
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run(args), String.join(" ", args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(java.nio.charset.StandardCharsets.UTF_8);
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
        assertReference(pngs, want8, "onestep W=2");
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
        // and the other corner of the grid through decode: K = 4, the teacher, one step per stage, unguided
        assertEquals(0, Main.run(new String[] {"decode", "--input", tmp.resolve("in-array").toString(),
            "--out", tmp.resolve("out-k4").toString(), "--model", MODEL.resolveSibling("k4").toString(),
            "--mode", "multiscale", "--stage-steps", "1", "--cfg-scale", "1", "--master", "local[2]", "--threads", "1",
            "--seed", "7"}));
        // the dry run counts the work: 3 passes per image; guided (W = 2 at every step) 6 rows, else 3
        for (String w : List.of("model", "1")) {
            String plan = stdout("decode", "--input", tmp.resolve("in-array").toString(), "--out",
                    tmp.resolve("never-" + w).toString(), "--model", MODEL.toString(), "--cfg-scale", w, "--dry-run",
                    "--master", "local[2]");
            String rows = w.equals("model") ? "6" : "3";
            assertTrue(plan.contains("dry run: work: 3 forward passes per image, " + rows + " network rows per image"),
                    plan);
            assertTrue(plan.contains("; 9 forward passes, " + Integer.parseInt(rows) * 3 + " network rows in all"), plan);
        }
        spark = SparkTestSession.start("local[2]", "mipflow-tokens");
        JsonObject k4 = JsonParser.parseString(Files.readString(MODEL.resolveSibling("k4").resolve("expected.json")))
                .getAsJsonObject();
        Map<String, byte[]> k4pngs = new HashMap<>();
        for (Row r : spark.read().parquet(tmp.resolve("out-k4") + "/images").collectAsList()) {
            k4pngs.put(r.getAs("id"), r.getAs("image"));
        }
        assertReference(k4pngs, eightBit(reference(k4, "multiscale", 1, 1.0).getAsJsonArray("images")),
                "decode k4 multiscale N=1 W=1");
        JsonObject k4summary = JsonParser.parseString(Files.readString(tmp.resolve("out-k4/summary.json")))
                .getAsJsonObject();
        assertEquals(4, k4summary.get("forward_passes").getAsInt());
        assertEquals(4, k4summary.get("network_rows_per_image").getAsInt(), "unguided: one row per pass");
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
            assertEquals("onestep", summary.get("mode").getAsString(), "auto: the fastest mode the model declares");
            assertEquals(3, summary.get("forward_passes").getAsInt());
            assertEquals(6, summary.get("network_rows_per_image").getAsInt(), "guided: the image and its null twin");
            // B decides the bytes, so the summary says how it was set (LocalClusterTest: what executors made of it)
            assertEquals("auto", summary.get("rows_per_call").getAsString());
        }
    }

    /**
     * Every reference decode (K = 3 and 4; multiscale with N = 1 and 10, onestep; W = 1 and 2)
     * through the Transformer, on the session already running; within one 8-bit level on every pixel.
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
                String mode = o.get("mode").getAsString();
                LatentDecoder decoder = new LatentDecoder().setModelDir(model.toString()).setThreads(1).setSeed(7)
                        .setMode(mode).setStageSteps(Integer.toString(steps)).setCfgScale(w);
                Map<String, byte[]> pngs = new HashMap<>();
                for (Row r : decoder.transform(in).collectAsList()) {
                    pngs.put(r.getAs("id"), r.getAs("image"));
                }
                assertReference(pngs, eightBit(o.getAsJsonArray("images")), k + " " + mode + " N=" + steps + " W=" + w);
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
        assertTrue(full.err().contains("was not trained for mode full (it was trained on per-stage time windows"),
                full.err());
        assertTrue(full.err().contains("its modes: [multiscale, onestep]"), full.err());
        CliTest.Result cfg = CliTest.run("decode", "--cfg-scale", "2", "--model", "../models/default",
                "--input", "../sample-data/latents", "--out", tmp.resolve("never2").toString());
        assertEquals(2, cfg.code());
        assertTrue(cfg.err().contains("has no null condition"), cfg.err());
    }

    /**
     * An image decoded exactly (its reference is its own decode) has PSNR +Infinity: the row keeps
     * it, the run still commits, and the summary's mean pools the finite values only (none here).
     */
    @Test
    void anExactReconstructionDoesNotStopTheRun() throws Exception {
        Path in = tmp.resolve("exact-in");
        input("array").filter("id like 'tok-%'").coalesce(1).write().parquet(in.toString());
        Path first = tmp.resolve("exact-first");
        assertEquals(0, Main.run(new String[] {"decode", "--input", in.toString(), "--out", first.toString(),
            "--model", MODEL.toString(), "--master", "local[2]", "--threads", "1", "--seed", "7"}));
        spark = SparkTestSession.start("local[2]", "mipflow-tokens");
        Map<String, byte[]> pngs = new HashMap<>();
        for (Row r : spark.read().parquet(first + "/images").collectAsList()) {
            pngs.put(r.getAs("id"), r.getAs("image"));
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String id = i == 0 ? "tok-a" : "tok-b";
            rows.add(RowFactory.create(id, contexts[i], pngs.get(id)));
        }
        Path withRef = tmp.resolve("exact-ref");
        spark.createDataFrame(rows, DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), true),
                DataTypes.createStructField("reference", DataTypes.BinaryType, true))))
                .coalesce(1).write().parquet(withRef.toString());
        Path second = tmp.resolve("exact-second");
        assertEquals(0, Main.run(new String[] {"decode", "--input", withRef.toString(), "--out", second.toString(),
            "--model", MODEL.toString(), "--master", "local[2]", "--threads", "1", "--seed", "7"}));
        spark = SparkTestSession.start("local[2]", "mipflow-tokens");
        List<Row> decoded = spark.read().parquet(second + "/images").collectAsList();
        assertEquals(2, decoded.size());
        for (Row r : decoded) {
            assertEquals(Double.POSITIVE_INFINITY, (double) r.getAs("psnr"), (String) r.getAs("id"));
        }
        JsonObject summary = JsonParser.parseString(Files.readString(second.resolve("summary.json")))
                .getAsJsonObject();
        assertEquals(2, summary.get("decoded").getAsLong());
        assertTrue(summary.get("psnr_mean").isJsonNull(), summary.toString());
    }
}
