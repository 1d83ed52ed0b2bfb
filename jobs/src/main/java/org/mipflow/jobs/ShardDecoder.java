package org.mipflow.jobs;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.mipflow.spark.DecodePartition;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;

/** Decodes input shards one Spark job each and commits each through {@link ShardCommits}. */
final class ShardDecoder {
    private final SparkSession spark;
    private final ShardCommits commits;
    private final DecodeSettings settings;
    private final HashMap<String, Long> duplicates;
    private final boolean failFast;
    private final LongAccumulator decodedAcc;
    private final LongAccumulator failedAcc;
    private final CollectionAccumulator<String> loadsAcc;
    private final String jobGroup = "mipflow-decode-" + UUID.randomUUID();

    ShardDecoder(SparkSession spark, ShardCommits commits, DecodeSettings settings, HashMap<String, Long> duplicates,
            boolean failFast, LongAccumulator decodedAcc, LongAccumulator failedAcc) {
        this.spark = spark;
        this.commits = commits;
        this.settings = settings;
        this.duplicates = duplicates;
        this.failFast = failFast;
        this.decodedAcc = decodedAcc;
        this.failedAcc = failedAcc;
        this.loadsAcc = spark.sparkContext().collectionAccumulator("mipflow model loads");
    }

    /** The device of each model load in an executor JVM during this run (at most one per JVM and device). */
    List<String> modelLoads() {
        return List.copyOf(loadsAcc.value());
    }

    /**
     * Decodes and commits every shard, {@code concurrent} Spark jobs at a time; on the first
     * failure the other jobs are cancelled and the failure is thrown (their shards stay
     * uncommitted for a later --resume).
     */
    List<ShardCommits.Record> decodeAll(List<String> shards, int concurrent) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(concurrent, r -> {
            Thread t = new Thread(r, "mipflow-shard");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<ShardCommits.Record>> futures = new ArrayList<>();
            for (String s : shards) {
                futures.add(pool.submit(() -> decode(s)));
            }
            List<ShardCommits.Record> out = new ArrayList<>();
            for (Future<ShardCommits.Record> f : futures) {
                out.add(f.get());
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            spark.sparkContext().cancelJobGroup(jobGroup);
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private ShardCommits.Record decode(String shard) throws IOException {
        String key = ShardCommits.key(shard);
        spark.sparkContext().setJobGroup(jobGroup,
                "mipflow decode (" + settings.sampler().mode().label() + ") " + key, false);
        Dataset<Row> df = spark.read().parquet(shard).withColumn(DecodeSchemas.SOURCE_FILE, lit(shard));
        long t0 = System.nanoTime();
        Dataset<Row> result = df.mapPartitions(new DecodePartition(settings, df.schema(), duplicates, failFast)
                        .withProgress(decodedAcc, failedAcc).withLoadRecord(loadsAcc), Encoders.row(DecodeSchemas.combined(df.schema())))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            result.filter(col(DecodeSchemas.ERROR).isNull()).drop(DecodeSchemas.SOURCE_FILE, DecodeSchemas.ERROR)
                    .write().mode(SaveMode.Overwrite).parquet(commits.staging(key, ShardCommits.IMAGES));
            result.filter(col(DecodeSchemas.ERROR).isNotNull())
                    .select(DecodeSchemas.ID, DecodeSchemas.SOURCE_FILE, DecodeSchemas.ERROR)
                    .write().mode(SaveMode.Overwrite).parquet(commits.staging(key, ShardCommits.ERRORS));
            Row agg = result.agg(count(lit(1)), sum(when(col(DecodeSchemas.ERROR).isNull(), 1).otherwise(0)),
                    sum(col("psnr")), count(col("psnr")), sum(col("ssim")), count(col("ssim"))).first();
            long input = agg.getLong(0);
            long decoded = agg.isNullAt(1) ? 0 : agg.getLong(1);
            ShardCommits.Record r = new ShardCommits.Record(shard, input, decoded, input - decoded,
                    agg.isNullAt(2) ? 0 : agg.getDouble(2), agg.getLong(3), agg.isNullAt(4) ? 0 : agg.getDouble(4),
                    agg.getLong(5), (System.nanoTime() - t0) / 1e9);
            commits.commit(key, r);
            System.out.printf(java.util.Locale.ROOT, "committed shard %s: %d rows (%d decoded, %d errors) in %.1f s%n",
                    key, input, decoded, input - decoded, r.seconds());
            return r;
        } finally {
            result.unpersist();
        }
    }
}
