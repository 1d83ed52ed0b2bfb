package org.mipflow.jobs;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.mipflow.model.ModelManifest;
import org.mipflow.spark.DecodePartition;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;

/**
 * The decode job: Parquet latents in, images + errors + summary.json out. Every input row ends up
 * in exactly one of images/ and errors/.
 */
public final class DecodeJob {

    /** What a run did; also written as summary.json. */
    public record Summary(long inputRows, long decoded, long errors, double seconds, double imagesPerSecond,
            Double psnrMean, Double ssimMean, String mode, int forwardPasses, JsonObject perShard) {}

    private DecodeJob() {}

    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings)
            throws UsageException, IOException {
        return run(spark, inputs, out, settings, false);
    }

    /**
     * @param settings with intraOpThreads 0, threads are chosen from the cores and the partitions
     * @param failFast stop at the first bad shard or row instead of reporting it and going on
     */
    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings,
            boolean failFast) throws UsageException, IOException {
        ModelManifest manifest = ModelManifest.read(Path.of(settings.modelDir()));
        ShardScanner.Scan scan = ShardScanner.scan(spark, inputs);
        if (failFast && !scan.bad().isEmpty()) {
            var first = scan.bad().entrySet().iterator().next();
            throw new UsageException("--fail-fast: shard " + first.getKey() + " " + first.getValue());
        }
        for (var e : scan.bad().entrySet()) {
            System.out.println("skipping shard " + e.getKey() + ": " + e.getValue());
        }
        Dataset<Row> df = spark.read().parquet(scan.good().toArray(String[]::new));
        df = df.withColumn(DecodeSchemas.SOURCE_FILE, col("_metadata.file_path"));
        spark.sparkContext().setJobDescription("mipflow find duplicate ids");
        HashMap<String, Long> duplicates = new HashMap<>();
        for (Row r : df.groupBy(DecodeSchemas.ID).count().filter(col("count").gt(1)).collectAsList()) {
            duplicates.put(r.getString(0), r.getLong(1));
        }
        if (settings.intraOpThreads() <= 0) {
            int threads = SparkSupport.intraOpThreads(spark, df.rdd().getNumPartitions());
            settings = new DecodeSettings(settings.modelDir(), settings.sampler(), settings.batchSize(), settings.seed(),
                    threads, settings.engineCacheDir(), settings.limits(), settings.pngDir());
        }
        System.out.printf("decode: %d partition(s), %d libtorch thread(s) per executor JVM%n",
                df.rdd().getNumPartitions(), settings.intraOpThreads());
        StructType combined = DecodeSchemas.combined(df.schema());
        spark.sparkContext().setJobDescription("mipflow decode (" + settings.sampler().mode().label() + ")");
        long inputRows = df.count();
        LongAccumulator decodedAcc = spark.sparkContext().longAccumulator("mipflow decoded rows");
        LongAccumulator failedAcc = spark.sparkContext().longAccumulator("mipflow failed rows");
        Dataset<Row> result = df.mapPartitions(new DecodePartition(settings, df.schema(), duplicates, failFast)
                                .withProgress(decodedAcc, failedAcc),
                        Encoders.row(combined))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            long t0 = System.nanoTime();
            long total;
            try (Progress p = new Progress(decodedAcc, failedAcc, inputRows, 10_000)) {
                total = result.count();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.println(Progress.line(decodedAcc.value(), failedAcc.value(), inputRows, seconds));
            Dataset<Row> images = result.filter(col(DecodeSchemas.ERROR).isNull())
                    .drop(DecodeSchemas.SOURCE_FILE, DecodeSchemas.ERROR);
            Dataset<Row> errors = result.filter(col(DecodeSchemas.ERROR).isNotNull())
                    .select(DecodeSchemas.ID, DecodeSchemas.SOURCE_FILE, DecodeSchemas.ERROR);
            if (!scan.bad().isEmpty()) {
                List<Row> badFiles = new ArrayList<>();
                scan.bad().forEach((f, why) -> badFiles.add(RowFactory.create(null, f, "bad shard: " + why)));
                errors = errors.unionByName(spark.createDataFrame(badFiles, errors.schema()));
            }
            spark.sparkContext().setJobDescription("mipflow write images");
            images.write().mode(SaveMode.Overwrite).parquet(out + "/images");
            spark.sparkContext().setJobDescription("mipflow write errors");
            errors.write().mode(SaveMode.Overwrite).parquet(out + "/errors");

            Row agg = result.agg(
                            sum(when(col(DecodeSchemas.ERROR).isNull(), 1).otherwise(0)),
                            avg("psnr"),
                            avg("ssim"))
                    .first();
            long decoded = agg.isNullAt(0) ? 0 : agg.getLong(0);
            JsonObject shards = new JsonObject();
            for (Row r : result.groupBy(DecodeSchemas.SOURCE_FILE)
                    .agg(count(lit(1)), sum(when(col(DecodeSchemas.ERROR).isNull(), 1).otherwise(0)))
                    .collectAsList()) {
                JsonObject s = new JsonObject();
                long in = r.getLong(1);
                long ok = r.getLong(2);
                s.addProperty("input", in);
                s.addProperty("decoded", ok);
                s.addProperty("errors", in - ok);
                shards.add(String.valueOf(r.getString(0)), s);
            }
            Summary sm = new Summary(total, decoded, total - decoded, seconds, decoded / Math.max(seconds, 1e-9),
                    agg.isNullAt(1) ? null : agg.getDouble(1), agg.isNullAt(2) ? null : agg.getDouble(2),
                    settings.sampler().mode().label(),
                    settings.sampler().forwardPasses(manifest.config().schedule().stages()),
                    shards);
            scan.bad().forEach((f, why) -> {
                JsonObject b = new JsonObject();
                b.addProperty("error", why);
                shards.add(f, b);
            });
            writeSummary(out, sm, settings, scan.bad().size());
            return sm;
        } finally {
            result.unpersist();
        }
    }

    static void writeSummary(String out, Summary s, DecodeSettings settings, int badShards) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("bad_shards", badShards);
        o.addProperty("input_rows", s.inputRows());
        o.addProperty("decoded", s.decoded());
        o.addProperty("errors", s.errors());
        o.addProperty("mode", s.mode());
        o.addProperty("forward_passes", s.forwardPasses());
        o.addProperty("decode_seconds", s.seconds());
        o.addProperty("images_per_second", s.imagesPerSecond());
        o.addProperty("psnr_mean", s.psnrMean());
        o.addProperty("ssim_mean", s.ssimMean());
        o.addProperty("model", settings.modelDir());
        o.addProperty("batch_size", settings.batchSize());
        o.addProperty("seed", settings.seed());
        o.add("per_shard", s.perShard());
        String json = new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(out, "summary.json");
        FileSystem fs = p.getFileSystem(new Configuration());
        try (OutputStream os = fs.create(p, true)) {
            os.write(json.getBytes(StandardCharsets.UTF_8));
        }
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
