package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
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
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.encode.EncodeJob;
import org.mipflow.metrics.Metric;
import org.mipflow.metrics.MetricSet;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.ModelCache;
import org.mipflow.spark.PngFiles;

/**
 * Encode the sample photos, add a shard of bad rows, decode with local Spark in every mode:
 * every id comes out exactly once, images are valid PNGs of the right size, metrics are finite.
 */
class EndToEndTest {
    static final int SIZE = 64;
    static final List<String> BAD_IDS = List.of("bad-length", "bad-nan", "bad-channels", "bad-zero-dim", "bad-reference",
            "bad-reference-size", "bad-reference-bomb");
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static String latents;

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkTestSession.startSmallShuffles("local[2]", "mipflow-test");
        model = TestModels.tiny(tmp.resolve("model"));
        latents = tmp.resolve("latents").toString();
        EncodeJob.Result r = EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()),
                latents + "/good", settings(SamplingMode.MULTISCALE, 4), SIZE, 2);
        assertEquals(3, r.encoded());
        assertEquals(0, r.errors());
        writeBadShard(latents + "/bad");
        writeFailFastInput();
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static DecodeSettings settings(SamplingMode mode, int batch) {
        return new DecodeSettings(model.toAbsolutePath().toString(),
                new SamplerConfig(mode, 6, new int[] {2, 2, 2}), batch, 7, 1, null, RowLimits.DEFAULT, null);
    }

    static void writeFailFastInput() throws Exception {
        Path d = tmp.resolve("messy-ff");
        Files.createDirectories(d);
        Files.writeString(d.resolve("junk.parquet"), "not parquet");
        try (var st = Files.list(Path.of(latents, "good"))) {
            Files.copy(st.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow(), d.resolve("ok.parquet"));
        }
    }

    static void writeBadShard(String path) {
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, true),
                DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), true),
                DataTypes.createStructField("latent_c", DataTypes.IntegerType, true),
                DataTypes.createStructField("latent_h", DataTypes.IntegerType, true),
                DataTypes.createStructField("latent_w", DataTypes.IntegerType, true),
                DataTypes.createStructField("reference", DataTypes.BinaryType, true)));
        float[] ok = new float[4 * 8 * 8];
        float[] nan = ok.clone();
        nan[17] = Float.NaN;
        List<Row> rows = List.of(
                RowFactory.create("bad-length", new float[10], 4, 8, 8, null),
                RowFactory.create("bad-nan", nan, 4, 8, 8, null),
                RowFactory.create("bad-channels", new float[3 * 8 * 8], 3, 8, 8, null),
                RowFactory.create("bad-zero-dim", new float[0], 4, 0, 8, null),
                RowFactory.create("bad-reference", ok, 4, 8, 8, new byte[] {1, 2, 3, 4}),
                RowFactory.create("bad-reference-size", ok, 4, 8, 8, png(32, 32)),
                RowFactory.create("bad-reference-bomb", ok, 4, 8, 8, bomb()));
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(path);
    }

    static byte[] png(int w, int h) {
        return org.mipflow.io.ImageCodec.png(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB));
    }

    /** A PNG whose header claims 100000 x 100000 pixels: must be refused before decoding. */
    static byte[] bomb() {
        java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(100_000).putInt(100_000)
                .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(ihdr.array());
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 4 + 17 + 4);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}).putInt(13).put(ihdr.array())
                .putInt((int) crc.getValue());
        return b.array();
    }

    static Map<String, Row> byId(Dataset<Row> d) {
        Map<String, Row> m = new HashMap<>();
        for (Row r : d.collectAsList()) {
            String id = r.getAs("id");
            assertNull(m.put(id, r), "id " + id + " appears twice");
        }
        return m;
    }

    @ParameterizedTest
    @EnumSource(SamplingMode.class)
    void everyRowComesOutOnceInEveryMode(SamplingMode mode) throws Exception {
        String out = tmp.resolve("out-" + mode).toString();
        DecodeJob.Summary s = DecodeJob.run(spark, List.of(latents + "/good", latents + "/bad"), out, settings(mode, 2));
        Map<String, Row> images = byId(spark.read().parquet(out + "/images"));
        Map<String, Row> errors = byId(spark.read().parquet(out + "/errors"));
        assertEquals(3, images.size());
        assertEquals(BAD_IDS.size(), errors.size());
        assertTrue(errors.keySet().containsAll(BAD_IDS), errors.keySet().toString());
        for (Row e : errors.values()) {
            assertNotNull(e.getAs("source_file"));
            assertTrue(((String) e.getAs("error")).length() > 5);
        }
        assertTrue(((String) errors.get("bad-nan").getAs("error")).contains("NaN"));
        assertTrue(((String) errors.get("bad-length").getAs("error")).contains("10 values"));
        assertTrue(((String) errors.get("bad-reference-size").getAs("error")).contains("32x32"));
        assertTrue(((String) errors.get("bad-reference-bomb").getAs("error")).contains("above the limit"),
                (String) errors.get("bad-reference-bomb").getAs("error"));
        for (Row r : images.values()) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(r.getAs("image")));
            assertEquals(SIZE, img.getWidth());
            assertEquals(SIZE, img.getHeight());
            assertEquals(SIZE, (int) r.getAs("width"));
            assertEquals(mode.name().toLowerCase(), r.getAs("mode"));
            assertTrue(Double.isFinite(r.getAs("psnr")) && Double.isFinite(r.getAs("ssim")));
            assertEquals(mode == SamplingMode.FULL ? 6 : mode == SamplingMode.ONESTEP ? 3 : 6,
                    (int) r.getAs("forward_passes"));
        }
        assertEquals(10, s.inputRows());
        assertEquals(3, s.decoded());
        assertEquals(7, s.errors());
        JsonObject summary = JsonParser.parseString(Files.readString(Path.of(out, "summary.json"))).getAsJsonObject();
        assertEquals(10, summary.get("input_rows").getAsLong());
        long perShard = 0;
        for (var e : summary.getAsJsonObject("per_shard").entrySet()) {
            JsonObject o = e.getValue().getAsJsonObject();
            assertEquals(o.get("input").getAsLong(), o.get("decoded").getAsLong() + o.get("errors").getAsLong());
            perShard += o.get("input").getAsLong();
        }
        assertEquals(10, perShard);
        assertEquals(1, ModelCache.loads(model.toAbsolutePath().toString()), "model loaded once per JVM");
    }

    /** summary.json lists the metrics asked for and has the mean of each over the images that have it. */
    @Test
    void theSummaryHasTheMeanOfEveryRequestedMetric() throws Exception {
        String out = tmp.resolve("out-all-metrics").toString();
        DecodeSettings all = new DecodeSettings(Path.of("../models/default").toAbsolutePath().toString(),
                SamplerConfig.of(SamplingMode.ONESTEP, 3), 0, 7, 1, null, RowLimits.DEFAULT, null,
                MetricSet.parse(MetricSet.ALL));
        DecodeJob.Summary s = DecodeJob.run(spark, List.of(Path.of("../sample-data/latents").toAbsolutePath().toString()),
                out, all);
        JsonObject summary = JsonParser.parseString(Files.readString(Path.of(out, "summary.json"))).getAsJsonObject();
        List<String> listed = new java.util.ArrayList<>();
        summary.getAsJsonArray("metrics").forEach(e -> listed.add(e.getAsString()));
        assertEquals(List.of("psnr", "ssim", "ms_ssim", "haarpsi"), listed);
        List<Row> rows = spark.read().parquet(out + "/images").collectAsList();
        assertEquals(3, rows.size());
        for (Metric m : Metric.values()) {
            double mean = rows.stream().mapToDouble(r -> r.<Double>getAs(m.column())).average().orElseThrow();
            assertEquals(mean, summary.get(m.summaryKey()).getAsDouble(), 1e-12, m.summaryKey());
            assertEquals(mean, s.mean(m), 1e-12);
        }
        // Not asked for: neither listed nor averaged.
        String two = tmp.resolve("out-psnr-only").toString();
        DecodeJob.run(spark, List.of(Path.of("../sample-data/latents").toAbsolutePath().toString()), two,
                new DecodeSettings(all.modelDir(), all.sampler(), 0, 7, 1, null, RowLimits.DEFAULT, null,
                        MetricSet.parse("psnr")));
        JsonObject psnrOnly = JsonParser.parseString(Files.readString(Path.of(two, "summary.json"))).getAsJsonObject();
        assertEquals(1, psnrOnly.getAsJsonArray("metrics").size());
        assertTrue(psnrOnly.has("psnr_mean") && !psnrOnly.has("ssim_mean"), psnrOnly.toString());
    }

    @Test
    void badShardsAndDuplicateIdsAreReportedAndTheRestIsDecoded() throws Exception {
        Path messy = tmp.resolve("messy");
        Files.createDirectories(messy);
        Path shard;
        try (var st = Files.list(Path.of(latents, "good"))) {
            shard = st.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
        }
        Files.copy(shard, messy.resolve("a.parquet"));
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(messy.resolve("truncated.parquet"), Arrays.copyOf(bytes, bytes.length / 2));
        Files.writeString(messy.resolve("junk.parquet"), "not parquet at all");
        Files.write(messy.resolve("empty.parquet"), new byte[0]);
        spark.sql("select 1 as id, array(cast(1 as float)) as latent, 1 as latent_c, 1 as latent_h, 1 as latent_w")
                .coalesce(1).write().parquet(tmp.resolve("wrongtypes").toString());
        try (var st = Files.list(tmp.resolve("wrongtypes"))) {
            Files.copy(st.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow(),
                    messy.resolve("wrongtypes.parquet"));
        }
        StructType schema = spark.read().parquet(latents + "/bad").schema();
        float[] zeros = new float[4 * 8 * 8];
        spark.createDataFrame(List.of(RowFactory.create("dup-1", zeros, 4, 8, 8, null),
                        RowFactory.create("dup-1", zeros, 4, 8, 8, null)), schema)
                .coalesce(1).write().parquet(tmp.resolve("dups").toString());
        try (var st = Files.list(tmp.resolve("dups"))) {
            Files.copy(st.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow(),
                    messy.resolve("dups.parquet"));
        }
        long good = spark.read().parquet(shard.toString()).count();
        String out = tmp.resolve("out-messy").toString();
        DecodeJob.Summary s = DecodeJob.run(spark, List.of(messy.toString()), out, settings(SamplingMode.MULTISCALE, 2));
        assertEquals(good, byId(spark.read().parquet(out + "/images")).size());
        List<Row> errors = spark.read().parquet(out + "/errors").collectAsList();
        assertEquals(2, errors.stream().filter(r -> "dup-1".equals(r.getAs("id"))).count());
        assertTrue(errors.stream().filter(r -> "dup-1".equals(r.getAs("id")))
                .allMatch(r -> ((String) r.getAs("error")).contains("occurs 2 times")));
        List<String> badShards = errors.stream().filter(r -> r.getAs("id") == null)
                .map(r -> Path.of(((String) r.getAs("source_file")).replace("file:", "")).getFileName().toString())
                .sorted().toList();
        assertEquals(List.of("empty.parquet", "junk.parquet", "truncated.parquet", "wrongtypes.parquet"), badShards);
        assertEquals(good + 2, s.inputRows());
        JsonObject summary = JsonParser.parseString(Files.readString(Path.of(out, "summary.json"))).getAsJsonObject();
        assertEquals(4, summary.get("bad_shards").getAsInt());
    }

    @Test
    void failFastStopsAtTheFirstBadShard() {
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> DecodeJob.run(spark, List.of(tmp.resolve("messy-ff").toString()), tmp.resolve("out-ff").toString(),
                        settings(SamplingMode.MULTISCALE, 2), true, false));
        assertTrue(e.getMessage().contains("--fail-fast"), e.getMessage());
    }

    @Test
    void missingColumnEverywhereIsOneErrorBeforeAnyWork() throws Exception {
        String in = tmp.resolve("nolatent").toString();
        spark.sql("select 'x' as id, 4 as latent_c, 8 as latent_h, 8 as latent_w").write().parquet(in);
        UsageException e = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> DecodeJob.run(spark, List.of(in), tmp.resolve("out-nl").toString(), settings(SamplingMode.FULL, 2)));
        assertTrue(e.getMessage().contains("'latent'"), e.getMessage());
    }

    @Test
    void bytesDoNotDependOnBatchingOrPartitioning() throws Exception {
        String a = tmp.resolve("det-a").toString();
        String b = tmp.resolve("det-b").toString();
        DecodeJob.run(spark, List.of(latents + "/good"), a, settings(SamplingMode.MULTISCALE, 1));
        spark.read().parquet(latents + "/good").repartition(3).write().parquet(tmp.resolve("reparted").toString());
        DecodeJob.run(spark, List.of(tmp.resolve("reparted").toString()), b, settings(SamplingMode.MULTISCALE, 3));
        Map<String, Row> ra = byId(spark.read().parquet(a + "/images"));
        Map<String, Row> rb = byId(spark.read().parquet(b + "/images"));
        assertEquals(ra.keySet(), rb.keySet());
        for (String id : ra.keySet()) {
            assertTrue(Arrays.equals((byte[]) ra.get(id).getAs("image"), (byte[]) rb.get(id).getAs("image")), id);
        }
    }

    @Test
    void pngDirHoldsOneSafelyNamedFilePerImage() throws Exception {
        Path pngs = tmp.resolve("pngs");
        DecodeSettings s = settings(SamplingMode.ONESTEP, 2);
        s = new DecodeSettings(s.modelDir(), s.sampler(), s.batching(), s.seed(), 1, null, s.limits(), pngs.toString(),
                s.metrics(), s.numerics());
        DecodeJob.run(spark, List.of(latents + "/good"), tmp.resolve("out-png").toString(), s);
        List<String> names = new ArrayList<>();
        try (var st = Files.list(pngs)) {
            st.filter(p -> p.toString().endsWith(".png")).forEach(p -> names.add(p.getFileName().toString()));
        }
        assertEquals(3, names.size(), names.toString());
        assertTrue(names.contains(PngFiles.fileName("citrus-fruits")));
    }
}
