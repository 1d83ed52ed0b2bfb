package org.mipflow.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.ml.param.shared.HasSeed;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
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
import scala.jdk.javaapi.CollectionConverters;

/**
 * The Transformer's Spark ML side: Params checked when set, Spark's shared seed Param, save and
 * load, handleInvalid (keep, error, skip), and the column contract, on a tiny model and latents
 * made here. (That it gives the decode command's bytes is the jobs module's PipelineDecodeTest.)
 */
class LatentDecoderTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;

    static final StructType SCHEMA = DataTypes.createStructType(List.of(
            DataTypes.createStructField("id", DataTypes.StringType, true),
            DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType), true),
            DataTypes.createStructField("latent_c", DataTypes.IntegerType, true),
            DataTypes.createStructField("latent_h", DataTypes.IntegerType, true),
            DataTypes.createStructField("latent_w", DataTypes.IntegerType, true)));

    @BeforeAll
    static void setUp() throws Exception {
        // udf's only Spark test class; the jobs tests share SparkTestSession (the modules share no test code).
        spark = SparkSession.builder().master("local[1]").appName("mipflow-latent-decoder")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").getOrCreate();
        model = TinyModel.write(tmp.resolve("model"));
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    static List<Float> latent(int n, int salt) {
        List<Float> v = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            v.add((float) Math.sin(0.37 * i + salt));
        }
        return v;
    }

    /** Two good rows around two bad ones (8 channels for a 4-channel model; a short latent), one partition. */
    static Dataset<Row> rows() {
        return spark.createDataFrame(List.of(
                RowFactory.create("good-1", latent(4 * 16, 1), 4, 4, 4),
                RowFactory.create("bad-channels", latent(8 * 16, 2), 8, 4, 4),
                RowFactory.create("good-2", latent(4 * 16, 3), 4, 4, 4),
                RowFactory.create("bad-length", latent(10, 4), 4, 4, 4)), SCHEMA).coalesce(1);
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
    void invalidParamValuesFailWhenSet() {
        LatentDecoder d = new LatentDecoder();
        for (Runnable set : List.<Runnable>of(() -> d.setMode("fast"), () -> d.setPrecision("fp16"),
                () -> d.setLayout("NHWC"), () -> d.setMetrics("psnr,lpips"), () -> d.setHandleInvalid("drop"),
                () -> d.setLatentDtype("float64"), () -> d.setSteps(0), () -> d.setBatchSize(-1),
                () -> d.setThreads(-2), () -> d.setMemoryBudgetMiB(-1), () -> d.setRowsPerCall(-1))) {
            assertThrows(IllegalArgumentException.class, set::run);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> d.setMetrics("psnr,lpips"));
        assertTrue(e.getMessage().contains("metrics") && e.getMessage().contains("lpips"), e.getMessage());
        // Every value the README lists is taken, and nothing was set by the refused ones.
        assertEquals("auto", d.getOrDefault(d.mode()));
        d.setMode("full").setMode("multiscale").setMode("onestep").setMode("auto").setPrecision("bf16")
                .setLayout("nhwc").setMetrics("psnr,ssim,ms_ssim,haarpsi").setHandleInvalid("skip")
                .setLatentDtype("bfloat16").setLatentDtype("");
        // A combination is checked before any work, by transformSchema (so by Pipeline.fit too).
        LatentDecoder bf16nchw = new LatentDecoder().setPrecision("bf16").setLayout("nchw");
        assertThrows(IllegalArgumentException.class, () -> bf16nchw.transformSchema(SCHEMA));
    }

    /** One recipe per transform, resolved on the driver, in every output column's metadata (#29). */
    @Test
    void transformRecordsItsRecipeInTheOutputColumnsMetadata() {
        LatentDecoder d = decoder().setPrecision("fp32").setRowsPerCall(3);
        Dataset<Row> out = d.transform(rows());
        for (String c : List.of("image", "error", "psnr", "decode_ms")) {
            com.google.gson.JsonObject r = com.google.gson.JsonParser.parseString(
                    out.schema().apply(c).metadata().getString(LatentDecoder.RECIPE_METADATA)).getAsJsonObject();
            assertEquals("fp32/nhwc", r.get("numerics").getAsString(), c);
            assertEquals("3", r.get("rows_per_call").getAsString());
            assertEquals("onestep", r.get("mode").getAsString());
            assertEquals(9, r.get("seed").getAsLong());
        }
        assertTrue(out.schema().apply("id").metadata().json().equals("{}"), "input columns keep theirs");
        assertEquals(2, out.filter(col("error").isNull()).count());
    }

    @Test
    void seedIsSparksSharedParam() {
        LatentDecoder d = new LatentDecoder();
        assertTrue(d instanceof HasSeed);
        assertEquals("seed", d.seed().name());
        assertEquals("random seed", d.seed().doc());
        assertEquals(0L, d.getSeed(), "the decode command's default, so both give the same bytes by default");
        assertEquals(9L, d.setSeed(9).getSeed());
        assertTrue(d.hasParam("seed") && d.hasParam("handleInvalid"));
    }

    @Test
    void savedAndLoadedKeepsEveryParam() throws Exception {
        LatentDecoder d = decoder().setHandleInvalid("skip").setMetrics("psnr,haarpsi").setPrecision("fp32");
        String path = tmp.resolve("saved-decoder").toString();
        d.write().overwrite().save(path);
        LatentDecoder back = LatentDecoder.load(path);
        assertEquals(d.uid(), back.uid());
        assertEquals(9L, back.getSeed());
        assertEquals("skip", back.getOrDefault(back.handleInvalid()));
        assertEquals("psnr,haarpsi", back.getOrDefault(back.metrics()));
        assertEquals(model.toString(), back.getOrDefault(back.modelDir()));
    }

    @Test
    void keepGivesEveryRowWithBadOnesAsErrors() {
        Map<String, Row> got = byId(decoder().transform(rows()));
        assertEquals(4, got.size(), "no row is dropped");
        assertTrue(got.get("bad-channels").<String>getAs("error").contains("latent has 8 channels; the model takes 4"),
                got.get("bad-channels").<String>getAs("error"));
        assertNotNull(got.get("bad-length").getAs("error"));
        assertNull(got.get("bad-length").getAs("image"));
        for (String id : List.of("good-1", "good-2")) {
            assertNull(got.get(id).getAs("error"), id);
            assertNotNull(got.get(id).getAs("image"), id);
        }
    }

    @Test
    void errorFailsAtTheFirstBadRowNamingIt() {
        Exception e = assertThrows(Exception.class,
                () -> decoder().setHandleInvalid("error").transform(rows()).collectAsList());
        String chain = messages(e);
        assertTrue(chain.contains("handleInvalid=error: row bad-channels: latent has 8 channels"), chain);
    }

    @Test
    void skipDropsBadRowsAndCountsThem() throws Exception {
        Map<String, Row> kept = byId(decoder().transform(rows()));
        LatentDecoder d = decoder().setHandleInvalid("skip");
        AtomicLong skipped = new AtomicLong();
        SparkListener counter = new SparkListener() {
            @Override
            public void onTaskEnd(SparkListenerTaskEnd end) {
                for (AccumulableInfo a : CollectionConverters.asJava(end.taskInfo().accumulables())) {
                    if (a.name().isDefined() && a.name().get().equals(d.skipCounter()) && a.update().isDefined()) {
                        skipped.addAndGet(((Number) a.update().get()).longValue());
                    }
                }
            }
        };
        spark.sparkContext().addSparkListener(counter);
        try {
            Map<String, Row> got = byId(d.transform(rows()));
            assertEquals(List.of("good-1", "good-2"), got.keySet().stream().sorted().toList());
            for (String id : got.keySet()) {
                assertNull(got.get(id).getAs("error"), id);
                assertArrayEquals((byte[]) kept.get(id).getAs("image"), got.get(id).getAs("image"), id);
            }
            spark.sparkContext().listenerBus().waitUntilEmpty(); // task-end events are delivered asynchronously
            assertEquals(2, skipped.get(), "the skipped rows are counted");
        } finally {
            spark.sparkContext().removeSparkListener(counter);
        }
    }

    @Test
    void badDtypesAndLengthsAreErrorRowsNotFailedJobs() {
        // Float32 bytes of each latent, labelled float64 (no such dtype), float16 (wrong length) and float32.
        List<Row> in = new ArrayList<>();
        String[] dtypes = {"float64", "float16", "float32"};
        for (int i = 0; i < dtypes.length; i++) {
            ByteBuffer b = ByteBuffer.allocate(4 * 64).order(ByteOrder.LITTLE_ENDIAN);
            latent(64, i).forEach(b::putFloat);
            in.add(RowFactory.create("row-" + dtypes[i], b.array(), dtypes[i], 4, 4, 4));
        }
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, true),
                DataTypes.createStructField("latent", DataTypes.BinaryType, true),
                DataTypes.createStructField("latent_dtype", DataTypes.StringType, true),
                DataTypes.createStructField("latent_c", DataTypes.IntegerType, true),
                DataTypes.createStructField("latent_h", DataTypes.IntegerType, true),
                DataTypes.createStructField("latent_w", DataTypes.IntegerType, true)));
        Map<String, Row> got = byId(decoder().transform(spark.createDataFrame(in, schema)));
        assertEquals(3, got.size(), "no row is dropped");
        String f64 = got.get("row-float64").getAs("error");
        assertTrue(f64 != null && f64.contains("float64"), f64);
        String f16 = got.get("row-float16").getAs("error");
        assertTrue(f16 != null && f16.contains("values but latent_c*latent_h*latent_w"), f16);
        assertNull(got.get("row-float32").getAs("error"));
        assertNotNull(got.get("row-float32").getAs("image"));
    }

    @Test
    void schemaProblemsNameTheColumn() {
        Dataset<Row> noLatent = rows().drop("latent");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> decoder().transform(noLatent));
        assertTrue(e.getMessage().contains("'latent'"), e.getMessage());
        Dataset<Row> wrongType = rows().withColumn("latent_h", lit("8"));
        e = assertThrows(IllegalArgumentException.class, () -> decoder().transform(wrongType));
        assertTrue(e.getMessage().contains("'latent_h' must be int"), e.getMessage());
        Dataset<Row> binaryNoDtype = rows().withColumn("latent", col("id").cast("binary"));
        e = assertThrows(IllegalArgumentException.class, () -> decoder().transform(binaryNoDtype));
        assertTrue(e.getMessage().contains("latent_dtype"), e.getMessage());
    }

    private static String messages(Throwable e) {
        StringBuilder b = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            b.append(t.getMessage()).append('\n');
        }
        return b.toString();
    }
}
