package org.mipflow.jobs.decode;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.metrics.Metric;
import org.mipflow.spark.DecodePartition;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.FeatureSettings;
import org.mipflow.spark.InvalidRows;
import org.mipflow.spark.LatentColumns;

/**
 * Decodes one wave (whole shards of one schema) as one Spark job and commits it through
 * {@link WaveCommits}: rows through {@link DecodePartition} (the path every caller decodes
 * through), per-shard counts and metric sums aggregated from the cached result, then images and
 * errors written into the wave's staging directory (a file per task, not per shard: a wave of a
 * thousand tiny shards writes a few files, and each row names its shard's key in a column).
 */
final class WaveDecoder {
    /** The column of images/ and errors/ that names each row's shard: its key ({@link ShardKey}), not its path. */
    static final String SHARD_KEY = "shard";
    private static final UserDefinedFunction SOURCE = udf(
            (UDF1<String, String>) ShardKey::fromFilePath, DataTypes.StringType);
    private static final UserDefinedFunction KEY = udf((UDF1<String, String>) ShardKey::of, DataTypes.StringType);

    private final SparkSession spark;
    private final WaveCommits commits;
    private final DecodeSettings settings;
    private final LatentColumns cols;
    private final Duplicates duplicates;
    private final InvalidRows invalid;
    private final UnaryOperator<MapPartitionsFunction<Row, Row>> partitionWrapper;
    /** Task slots of the whole cluster (Spark's default parallelism). */
    private final int slots;
    private final LongAccumulator decodedAcc;
    private final LongAccumulator failedAcc;
    private final CollectionAccumulator<String> loadsAcc;
    /** The feature statistics after the last committed wave (null without a feature network). */
    private WaveCommits.Features runningFeatures;

    WaveDecoder(SparkSession spark, WaveCommits commits, DecodeSettings settings, LatentColumns cols,
            Duplicates duplicates, InvalidRows invalid, UnaryOperator<MapPartitionsFunction<Row, Row>> partitionWrapper,
            int slots) {
        this.spark = spark;
        this.commits = commits;
        this.settings = settings;
        this.cols = cols;
        this.duplicates = duplicates;
        this.invalid = invalid;
        this.partitionWrapper = partitionWrapper;
        this.slots = slots;
        this.decodedAcc = spark.sparkContext().longAccumulator(Progress.DECODED);
        this.failedAcc = spark.sparkContext().longAccumulator(Progress.FAILED);
        this.loadsAcc = spark.sparkContext().collectionAccumulator("mipflow model loads");
    }

    /** The device of each model load in an executor JVM during this run (at most one per JVM and device). */
    List<String> modelLoads() {
        return List.copyOf(loadsAcc.value());
    }

    /** The feature statistics of every wave committed so far, or null without a feature network. */
    WaveCommits.Features features() {
        return runningFeatures;
    }

    long decodedRows() {
        return decodedAcc.value();
    }

    long failedRows() {
        return failedAcc.value();
    }

    /**
     * The wave's rows as the partition function gets them: the shard's columns, its source file
     * and the duplicate mark, spread over at least the task slots (by id, so a retried task gets
     * the same rows) when the files alone give fewer partitions.
     */
    Dataset<Row> rows(WavePlan.Wave wave) {
        Dataset<Row> df = duplicates.mark(read(spark, wave), cols.id());
        int files = df.rdd().getNumPartitions();
        int n = partitions(files, wave.rows(), slots);
        if (n > files) {
            df = df.repartition(n, col(cols.id()));
        } else if (n < files) {
            df = df.coalesce(n);
        }
        return df;
    }

    /** The wave's shards as Spark reads them (schema from the scan, no inference), with their source file. */
    static Dataset<Row> read(SparkSession spark, WavePlan.Wave wave) {
        StructType schema = (StructType) DataType.fromJson(wave.schema());
        return spark.read().schema(schema).parquet(wave.paths().toArray(String[]::new))
                .withColumn(DecodeSchemas.SOURCE_FILE, SOURCE.apply(col("_metadata.file_path")));
    }

    /**
     * The partitions a wave runs in, from the partitions its files make: fewer than the cluster's
     * slots are spread over them (by id, so a retried task gets the same rows); many tiny shards'
     * partitions are packed to a few per slot, which balance as well while each task's fixed costs
     * (writers, cache blocks) are paid fewer times.
     */
    static int partitions(int files, long rows, int slots) {
        if (files < slots && rows > 1) {
            return (int) Math.max(files, Math.min(slots, rows));
        }
        return Math.min(files, 4 * slots);
    }

    /**
     * Writes one output of the wave into staging. Without any row of this kind, one empty file
     * still carries the schema, so that images/ and errors/ are always readable.
     */
    private void write(Dataset<Row> rows, WavePlan.Wave wave, String what, boolean none) {
        Dataset<Row> out = none ? rows.limit(0).coalesce(1) : rows;
        out.write().mode(SaveMode.Overwrite).parquet(commits.staging(wave.name(), what));
    }

    /**
     * The wave's feature statistics, built per partition on the executors from the cached result
     * (decoded rows only) and merged pairwise up a tree: no feature row reaches the driver but the
     * KID sample's.
     */
    private FeatureStats featureStats(Dataset<Row> result) {
        FeatureSettings fs = settings.features();
        long seed = settings.seed();
        int parts = result.rdd().getNumPartitions();
        return result.filter(col(DecodeSchemas.ERROR).isNull())
                .select(col(DecodeSchemas.ID), col(DecodeSchemas.FEATURES), col(DecodeSchemas.REFERENCE_FEATURES),
                        col(DecodeSchemas.FEATURE_ERROR))
                .javaRDD()
                .mapPartitions(rows -> {
                    FeatureStats s = fs.emptyStats(seed);
                    while (rows.hasNext()) {
                        Row r = rows.next();
                        if (!r.isNullAt(3)) {
                            s.reject("row " + r.getString(0) + ": " + r.getString(3));
                        } else if (!r.isNullAt(1)) {
                            s.add(r.getString(0), floats(r.getList(1)), floats(r.getList(2)));
                        }
                    }
                    return List.of(s).iterator();
                })
                .treeReduce(FeatureStats::merge, mergeDepth(parts));
    }

    /**
     * Levels of the merge tree: enough that each level merges about 4 statistics and the driver
     * receives a handful (Spark stops a tree once it is within about twice its fan-in), whatever
     * the partition count. One statistic is tens of MB for Inception features (two packed 2048^2
     * co-moment triangles and the KID sample), so a flat merge of 200 partitions' statistics on the driver
     * would pass spark.driver.maxResultSize.
     */
    static int mergeDepth(int partitions) {
        return Math.max(2, (int) Math.ceil(Math.log(Math.max(partitions, 1)) / Math.log(4)));
    }

    private static float[] floats(List<Float> v) {
        float[] f = new float[v.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = v.get(i);
        }
        return f;
    }

    /**
     * Decodes and commits the wave; its records, one per shard (shards without rows too). With a
     * feature network, {@code features} holds the statistics of the waves committed before and
     * gains this wave's, committed with it.
     */
    List<WaveCommits.Record> decode(WavePlan.Wave wave, WaveCommits.Features features) throws IOException {
        long t0 = System.nanoTime();
        spark.sparkContext().setJobDescription(String.format(Locale.ROOT, "mipflow decode (%s) wave %s: %d shard(s), "
                + "%d row(s)", settings.sampler().mode().label(), wave.name(), wave.shards().size(), wave.rows()));
        Dataset<Row> in = rows(wave);
        DecodePartition fn = new DecodePartition(settings, in.schema(), cols, invalid)
                .withProgress(decodedAcc, failedAcc).withLoadRecord(loadsAcc);
        List<Column> imageCols = new ArrayList<>();
        DecodeSchemas.imageColumns(in.schema()).forEach(c -> imageCols.add(col(c)));
        List<Column> kept = new ArrayList<>(imageCols);
        kept.add(col(DecodeSchemas.SOURCE_FILE));
        kept.add(col(DecodeSchemas.ERROR));
        kept.add(KEY.apply(col(DecodeSchemas.SOURCE_FILE)).as(SHARD_KEY));
        if (settings.features() != null) { // aggregated below, not written
            kept.add(col(DecodeSchemas.FEATURES));
            kept.add(col(DecodeSchemas.REFERENCE_FEATURES));
            kept.add(col(DecodeSchemas.FEATURE_ERROR));
        }
        imageCols.add(col(SHARD_KEY));
        // The latents are dropped in the same stage, so the cache holds images, not inputs.
        Dataset<Row> result = in.mapPartitions(partitionWrapper.apply(fn), Encoders.row(fn.outputSchema()))
                .select(kept.toArray(Column[]::new))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Map<String, Row> stats = new HashMap<>();
            long waveDecoded = 0;
            long waveRows = 0;
            List<Metric> metrics = List.copyOf(settings.metrics().metrics());
            List<Column> sums = new ArrayList<>();
            sums.add(sum(when(col(DecodeSchemas.ERROR).isNull(), 1).otherwise(0)));
            for (Metric m : metrics) {
                sums.add(sum(col(m.column())));
                sums.add(count(col(m.column())));
            }
            for (Row r : result.groupBy(DecodeSchemas.SOURCE_FILE).agg(count(lit(1)), sums.toArray(Column[]::new))
                    .collectAsList()) {
                stats.put(r.getString(0), r);
                waveRows += r.getLong(1);
                waveDecoded += r.getLong(2);
            }
            write(result.filter(col(DecodeSchemas.ERROR).isNull()).select(imageCols.toArray(Column[]::new)),
                    wave, WaveCommits.IMAGES, waveDecoded == 0);
            write(result.filter(col(DecodeSchemas.ERROR).isNotNull())
                    .select(col(DecodeSchemas.ID), col(DecodeSchemas.SOURCE_FILE), col(DecodeSchemas.ERROR), col(SHARD_KEY)),
                    wave, WaveCommits.ERRORS, waveRows == waveDecoded);
            List<WaveCommits.Record> records = new ArrayList<>();
            long decoded = 0;
            long input = 0;
            for (ShardScan.Shard s : wave.shards()) {
                Row a = stats.get(s.path());
                Map<String, WaveCommits.MetricSum> ms = new HashMap<>();
                for (int i = 0; i < metrics.size(); i++) {
                    int c = 3 + 2 * i; // columns: file, rows, decoded, then (sum, count) per metric
                    ms.put(metrics.get(i).column(), a == null ? new WaveCommits.MetricSum(0, 0)
                            : new WaveCommits.MetricSum(a.isNullAt(c) ? 0 : a.getDouble(c), a.getLong(c + 1)));
                }
                WaveCommits.Record r = a == null ? new WaveCommits.Record(s.path(), 0, 0, 0, ms)
                        : new WaveCommits.Record(s.path(), a.getLong(1), a.getLong(2), a.getLong(1) - a.getLong(2), ms);
                records.add(r);
                input += r.input();
                decoded += r.decoded();
            }
            if (stats.size() > records.stream().filter(r -> r.input() > 0).count()) {
                throw new IllegalStateException("wave " + wave.name() + " produced rows of a file outside the wave: "
                        + stats.keySet());
            }
            WaveCommits.Features total = null;
            if (features != null) {
                Set<String> waves = new java.util.HashSet<>(features.waves());
                waves.add(wave.name());
                total = new WaveCommits.Features(features.sha256(), waves, features.stats().merge(featureStats(result)));
            }
            commits.commit(wave.name(), records, total);
            if (total != null) {
                runningFeatures = total;
            }
            System.out.printf(Locale.ROOT, "committed wave %s: %d shard(s), %d rows (%d decoded, %d errors) in %.1f s%n",
                    wave.name(), wave.shards().size(), input, decoded, input - decoded, (System.nanoTime() - t0) / 1e9);
            return records;
        } finally {
            result.unpersist();
            spark.sparkContext().setJobDescription(null);
        }
    }
}
