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
    /** The rows that fill a task batch's network calls ({@link org.mipflow.sampling.Batching.Plan#unit}). */
    private final int unit;
    /** The wave's row index column while rows are dealt. */
    private static final String ROW_INDEX = "_mipflow_row_index";
    private final LongAccumulator decodedAcc;
    private final LongAccumulator failedAcc;
    private final CollectionAccumulator<String> loadsAcc;
    private final LongAccumulator networkRowsAcc;
    private final LongAccumulator sentRowsAcc;
    /** The feature statistics after the last committed wave (null without a feature network). */
    private WaveCommits.Features runningFeatures;

    WaveDecoder(SparkSession spark, WaveCommits commits, DecodeSettings settings, LatentColumns cols,
            Duplicates duplicates, InvalidRows invalid, UnaryOperator<MapPartitionsFunction<Row, Row>> partitionWrapper,
            int slots, int unit) {
        this.spark = spark;
        this.commits = commits;
        this.settings = settings;
        this.cols = cols;
        this.duplicates = duplicates;
        this.invalid = invalid;
        this.partitionWrapper = partitionWrapper;
        this.slots = slots;
        this.unit = unit;
        this.decodedAcc = spark.sparkContext().longAccumulator(Progress.DECODED);
        this.failedAcc = spark.sparkContext().longAccumulator(Progress.FAILED);
        this.loadsAcc = spark.sparkContext().collectionAccumulator("mipflow model loads");
        this.networkRowsAcc = spark.sparkContext().longAccumulator("mipflow rows per step");
        this.sentRowsAcc = spark.sparkContext().longAccumulator("mipflow rows sent per step");
    }

    /** What the network was given per step during this run, and sent with the padding. */
    org.mipflow.sampling.Batching.Traffic traffic() {
        return new org.mipflow.sampling.Batching.Traffic(networkRowsAcc.value(), sentRowsAcc.value());
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
     * and the duplicate mark, dealt into the partitions of {@link #packing} by each row's index in
     * the wave (shard order, then {@code _metadata.row_index}: a retried task gets the same rows),
     * and within a partition ordered by latent shape, so that a task batch is cut short only where
     * the shape changes.
     */
    Dataset<Row> rows(WavePlan.Wave wave) {
        TaskPacking packing = packing(wave, slots, unit);
        Map<String, Long> first = new HashMap<>(); // each shard's first row in the wave's order
        long offset = 0;
        for (ShardScan.Shard s : wave.shards()) {
            first.put(s.path(), offset);
            offset += s.rows();
        }
        Dataset<Row> df = duplicates.mark(read(spark, wave).withColumn(ROW_INDEX, col("_metadata.row_index")),
                cols.id());
        int source = df.schema().fieldIndex(DecodeSchemas.SOURCE_FILE);
        int index = df.schema().fieldIndex(ROW_INDEX);
        Dataset<Row> dealt = df.sparkSession().createDataFrame(df.javaRDD()
                .mapToPair(r -> new scala.Tuple2<>(packing.partitionOf(firstRow(first, r.getString(source))
                        + r.getLong(index)), r))
                .partitionBy(new Dealt(packing.partitions()))
                .values(), df.schema()).drop(ROW_INDEX);
        List<String> shape = cols.tokens() ? List.of() : List.of(cols.channels(), cols.height(), cols.width());
        return shape.isEmpty() ? dealt : dealt.sortWithinPartitions(shape.stream().map(c -> col(c)).toArray(Column[]::new));
    }

    private static long firstRow(Map<String, Long> first, String shard) {
        Long f = first.get(shard);
        if (f == null) {
            throw new IllegalStateException("a row of " + shard + ", which is not among the wave's shards " + first.keySet());
        }
        return f;
    }

    /** The partitions of {@link #rows}: partition i gets the rows whose key is i. */
    private static final class Dealt extends org.apache.spark.Partitioner {
        private static final long serialVersionUID = 1L;
        private final int n;

        Dealt(int n) {
            this.n = n;
        }

        @Override
        public int numPartitions() {
            return n;
        }

        @Override
        public int getPartition(Object key) {
            return (Integer) key;
        }
    }

    /** The wave's shards as Spark reads them (schema from the scan, no inference), with their source file. */
    static Dataset<Row> read(SparkSession spark, WavePlan.Wave wave) {
        StructType schema = (StructType) DataType.fromJson(wave.schema());
        return spark.read().schema(schema).parquet(wave.paths().toArray(String[]::new))
                .withColumn(DecodeSchemas.SOURCE_FILE, SOURCE.apply(col("_metadata.file_path")));
    }

    /**
     * How a wave's rows are dealt to partitions: {@link TaskPacking} over the cluster's task slots,
     * in multiples of the rows that fill a task batch's calls.
     */
    static TaskPacking packing(WavePlan.Wave wave, int slots, int unit) {
        return TaskPacking.of(wave.rows(), slots, unit);
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
                .withProgress(decodedAcc, failedAcc).withLoadRecord(loadsAcc).withTraffic(networkRowsAcc, sentRowsAcc);
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
                // Means pool finite values only: an exact reconstruction has PSNR +Infinity (kept in
                // its row), which would make the mean infinite and cannot be written as JSON.
                Column finite = when(col(m.column()).gt(lit(Double.NEGATIVE_INFINITY))
                        .and(col(m.column()).lt(lit(Double.POSITIVE_INFINITY))), col(m.column()));
                sums.add(sum(finite));
                sums.add(count(finite));
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
