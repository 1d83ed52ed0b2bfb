package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.SparkTestSession;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.TestModels;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * The same rows as one shard and as 100 shards of 2 rows, decoded in several waves: the same
 * bytes for every id, duplicates found across shards, per-shard accounting, and a dry run that
 * counts all of it and writes nothing.
 */
class ScaleDecodeTest {
    static final int ROWS = 200;
    static final int SHARDS = 100;
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static DecodeSettings settings;
    static String oneShard;
    static String manyShards;

    @BeforeAll
    static void setUp() throws Exception {
        spark = SparkTestSession.startSmallShuffles("local[2]", "mipflow-scale");
        Path model = TestModels.tiny(tmp.resolve("model"));
        settings = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.ONESTEP, 2, new int[] {1, 1, 1}),
                0, 11, 0, null, RowLimits.DEFAULT, null);
        List<Row> rows = rows();
        StructType schema = schema();
        oneShard = tmp.resolve("one").toString();
        manyShards = tmp.resolve("many").toString();
        spark.createDataFrame(rows, schema).coalesce(1).write().parquet(oneShard);
        // Round-robin: exactly 2 rows per file.
        spark.createDataFrame(rows, schema).repartition(SHARDS).write().parquet(manyShards);
    }

    @AfterAll
    static void tearDown() {
        spark.stop();
    }

    /** 8x8 latents for the tiny test model; "dup" is the id of two rows. */
    static List<Row> rows() {
        SplittableRandom rnd = new SplittableRandom(5);
        List<Row> rows = new ArrayList<>();
        for (int r = 0; r < ROWS; r++) {
            float[] z = new float[4 * 8 * 8];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) rnd.nextGaussian();
            }
            rows.add(RowFactory.create(r < 2 ? "dup" : "img-" + r, z, 4, 8, 8, "tag-" + r));
        }
        return rows;
    }

    static StructType schema() {
        return DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), false),
                DataTypes.createStructField("latent_c", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_h", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_w", DataTypes.IntegerType, false),
                DataTypes.createStructField("tag", DataTypes.StringType, false)));
    }

    @Test
    void manySmallShardsInWavesGiveTheBytesOfOneShard() throws Exception {
        String a = tmp.resolve("out-one").toString();
        String b = tmp.resolve("out-many").toString();
        DecodeJob.Summary one = DecodeJob.run(spark, DecodeJob.Request.of(List.of(oneShard), a, settings));
        DecodeJob.Summary many = DecodeJob.run(spark,
                DecodeJob.Request.of(List.of(manyShards), b, settings).withWaves(50, 1000));
        for (DecodeJob.Summary s : List.of(one, many)) {
            assertEquals(ROWS, s.inputRows());
            assertEquals(ROWS - 2, s.decoded());
            assertEquals(2, s.errors());
        }
        Map<String, byte[]> x = images(a);
        Map<String, byte[]> y = images(b);
        assertEquals(ROWS - 2, x.size());
        assertEquals(x.keySet(), y.keySet());
        for (String id : x.keySet()) {
            assertArrayEquals(x.get(id), y.get(id), id);
        }
        // Duplicates are found across shards, and reported with every row that carries them.
        List<Row> errors = spark.read().parquet(b + "/errors").collectAsList();
        assertEquals(2, errors.size());
        for (Row e : errors) {
            assertEquals("dup", e.getAs("id"));
            assertEquals("id occurs 2 times in the input", e.getAs("error"));
        }
        // Pass-through columns arrive, and each shard has its own partition and accounting.
        assertEquals(ROWS - 2, spark.read().parquet(b + "/images").filter("tag like 'tag-%'").count());
        assertEquals(SHARDS, spark.read().parquet(b + "/images").select("shard")
                .union(spark.read().parquet(b + "/errors").select("shard")).distinct().count());
        JsonObject summary = JsonParser.parseString(Files.readString(Path.of(b, "summary.json"))).getAsJsonObject();
        JsonObject perShard = summary.getAsJsonObject("per_shard");
        assertEquals(SHARDS, perShard.size());
        long sum = 0;
        for (String k : perShard.keySet()) {
            JsonObject s = perShard.getAsJsonObject(k);
            assertEquals(2, s.get("input").getAsLong(), k);
            assertEquals(s.get("input").getAsLong(), s.get("decoded").getAsLong() + s.get("errors").getAsLong());
            sum += s.get("input").getAsLong();
        }
        assertEquals(ROWS, sum);
        // Rows sent per step: B = 8 at 64 px (auto on a CPU), waves of 50 rows dealt into partitions
        // of 8, so each wave's last call is short (2 of 8 rows); the duplicates never reach the network.
        assertEquals(ROWS - 2 + summary.get("rows_padded").getAsLong(), summary.get("rows_sent").getAsLong());
        assertEquals(0, summary.get("rows_sent").getAsLong() % 8);
        assertTrue(summary.get("rows_sent").getAsLong() <= 4 * 56, summary.toString());
        assertEquals(summary.get("rows_padded").getAsDouble() / summary.get("rows_sent").getAsDouble(),
                summary.get("padding_fraction").getAsDouble(), 1e-12);
        // One shard in one wave: partitions of 32 rows, one short by the two duplicates' rows.
        JsonObject oneSummary = JsonParser.parseString(Files.readString(Path.of(a, "summary.json"))).getAsJsonObject();
        assertEquals(200, oneSummary.get("rows_sent").getAsLong(), oneSummary.toString());
        assertEquals(2, oneSummary.get("rows_padded").getAsLong());
        try (var st = Files.list(Path.of(b, "_commits"))) {
            assertEquals(4, st.filter(p -> p.toString().endsWith(".json")).count(), "200 rows in waves of 50");
        }
        assertFalse(Files.exists(Path.of(b, "_staging")));

        // A dry run with --resume over the finished output: everything committed, nothing to do.
        DecodeJob.Plan done = DecodeJob.dryRun(spark,
                DecodeJob.Request.of(List.of(manyShards), b, settings).withFlags(false, true, true));
        assertEquals(SHARDS, done.committedShards());
        assertEquals(0, done.pendingShards());
        assertEquals(0, done.waves());
    }

    @Test
    void dryRunCountsAndWritesNothing() throws Exception {
        Path out = tmp.resolve("out-dry");
        DecodeJob.Plan p = DecodeJob.dryRun(spark,
                DecodeJob.Request.of(List.of(manyShards), out.toString(), settings).withWaves(50, 1000));
        assertEquals(SHARDS, p.shards());
        assertEquals(0, p.badShards());
        assertEquals(ROWS, p.rows());
        assertEquals(1, p.duplicateIds());
        assertEquals(2, p.duplicateRows());
        assertEquals(0, p.committedShards());
        assertEquals(SHARDS, p.pendingShards());
        assertEquals(4, p.waves());
        // each wave of 50 rows over 2 slots: partitions of 8 rows (B = 8), the last of 2
        assertEquals(4 * 7, p.partitions());
        assertEquals(new org.mipflow.sampling.Batching.Plan(8, 8), p.batch());
        assertEquals(new org.mipflow.sampling.Batching.Traffic(ROWS, 4 * 56), p.traffic());
        assertEquals(ROWS * 3L, p.forwardPasses());
        assertFalse(Files.exists(out), "a dry run writes nothing");
    }

    private static Map<String, byte[]> images(String out) {
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : spark.read().parquet(out + "/images").collectAsList()) {
            assertNull(m.put(r.getAs("id"), r.getAs("image")), "id twice: " + r.getAs("id"));
        }
        return m;
    }
}
