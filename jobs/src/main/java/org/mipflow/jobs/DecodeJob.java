package org.mipflow.jobs;

import static org.apache.spark.sql.functions.col;

import ai.djl.Device;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.mipflow.model.Bf16Support;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.NumericPath;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;

/**
 * The decode job: Parquet latents in, images + errors + summary.json out. Every input row ends up
 * in exactly one of images/ and errors/.
 */
public final class DecodeJob {

    /** What a run did; also written as summary.json. */
    public record Summary(long inputRows, long decoded, long errors, double seconds, double imagesPerSecond,
            Double psnrMean, Double ssimMean, String mode, int forwardPasses, JsonObject perShard,
            int resumedShards, List<String> modelLoads) {}

    private DecodeJob() {}

    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings)
            throws UsageException, IOException {
        return run(spark, inputs, out, settings, false, false);
    }

    /**
     * @param settings with intraOpThreads 0, threads are chosen from the cores and the partitions
     * @param failFast stop at the first bad shard or row instead of reporting it and going on
     * @param resume keep the shards an earlier run over the same output committed and decode only the rest
     */
    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings,
            boolean failFast, boolean resume) throws UsageException, IOException {
        DecoderFacts facts = DecoderFacts.read(Path.of(settings.modelDir()));
        ShardScanner.Scan scan = ShardScanner.scan(spark, inputs);
        if (failFast && !scan.bad().isEmpty()) {
            var first = scan.bad().entrySet().iterator().next();
            throw new UsageException("--fail-fast: shard " + first.getKey() + " " + first.getValue());
        }
        for (var e : scan.bad().entrySet()) {
            System.out.println("skipping shard " + e.getKey() + ": " + e.getValue());
        }
        ShardCommits commits = new ShardCommits(out, spark.sparkContext().hadoopConfiguration());
        Map<String, ShardCommits.Record> done = new HashMap<>();
        if (resume) {
            done.putAll(commits.recover(scan.good()));
        } else {
            commits.startFresh();
        }
        List<String> pending = scan.good().stream().filter(s -> !done.containsKey(ShardCommits.key(s))).toList();
        if (resume) {
            System.out.printf("resume: %d shard(s) already committed, %d to decode%n",
                    scan.good().size() - pending.size(), pending.size());
        }

        Dataset<Row> all = spark.read().parquet(scan.good().toArray(String[]::new));
        spark.sparkContext().setJobDescription("mipflow find duplicate ids");
        // Over every good shard, committed ones included, so a resumed run decides as the first did.
        HashMap<String, Long> duplicates = new HashMap<>();
        for (Row r : all.groupBy(DecodeSchemas.ID).count().filter(col("count").gt(1)).collectAsList()) {
            duplicates.put(r.getString(0), r.getLong(1));
        }
        int slots = SparkSupport.taskSlots(spark);
        int partitions = all.rdd().getNumPartitions();
        if (settings.intraOpThreads() <= 0) {
            int threads = SparkSupport.intraOpThreads(spark, partitions);
            settings = settings.withIntraOpThreads(threads);
        }
        System.out.printf("decode: %d shard(s), %d partition(s), %d libtorch thread(s) per executor JVM%n",
                scan.good().size(), partitions, settings.intraOpThreads());
        printPlan(all, settings, facts);
        long pendingRows = pending.isEmpty() ? 0 : spark.read().parquet(pending.toArray(String[]::new)).count();

        LongAccumulator decodedAcc = spark.sparkContext().longAccumulator("mipflow decoded rows");
        LongAccumulator failedAcc = spark.sparkContext().longAccumulator("mipflow failed rows");
        ShardDecoder decoder = new ShardDecoder(spark, commits, settings, duplicates, failFast, decodedAcc, failedAcc);
        long t0 = System.nanoTime();
        try (Progress p = new Progress(decodedAcc, failedAcc, pendingRows, 10_000)) {
            // Several shard jobs at once, so that many small shards still fill every task slot.
            for (ShardCommits.Record r : decoder.decodeAll(pending, Math.min(slots, Math.max(1, pending.size())))) {
                done.put(ShardCommits.key(r.shard()), r);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        commits.dropStaging();
        System.out.println(Progress.line(decodedAcc.value(), failedAcc.value(), pendingRows, seconds));
        writeBadFiles(spark, commits, scan.bad());

        Summary sm = summary(scan, done, new java.util.HashSet<>(pending), seconds, decodedAcc.value(), settings,
                facts.schedule().stages(), decoder.modelLoads());
        writeSummary(out, sm, settings, scan.bad().size(), spark.sparkContext().hadoopConfiguration());
        return sm;
    }

    /** Pools the commit records of every good shard, this run's and earlier runs', into the summary. */
    private static Summary summary(ShardScanner.Scan scan, Map<String, ShardCommits.Record> done, Set<String> decodedNow,
            double seconds, long imagesNow, DecodeSettings settings, int stages, List<String> modelLoads) {
        long input = 0;
        long decoded = 0;
        double psnr = 0;
        long psnrRows = 0;
        double ssim = 0;
        long ssimRows = 0;
        JsonObject shards = new JsonObject();
        for (String s : scan.good()) {
            ShardCommits.Record r = done.get(ShardCommits.key(s));
            input += r.input();
            decoded += r.decoded();
            psnr += r.psnrSum();
            psnrRows += r.psnrRows();
            ssim += r.ssimSum();
            ssimRows += r.ssimRows();
            JsonObject o = new JsonObject();
            o.addProperty("input", r.input());
            o.addProperty("decoded", r.decoded());
            o.addProperty("errors", r.errors());
            o.addProperty("resumed", !decodedNow.contains(s));
            shards.add(s, o);
        }
        scan.bad().forEach((f, why) -> {
            JsonObject b = new JsonObject();
            b.addProperty("error", why);
            shards.add(f, b);
        });
        return new Summary(input, decoded, input - decoded, seconds, imagesNow / Math.max(seconds, 1e-9),
                psnrRows == 0 ? null : psnr / psnrRows, ssimRows == 0 ? null : ssim / ssimRows,
                settings.sampler().mode().label(), settings.sampler().forwardPasses(stages), shards,
                scan.good().size() - decodedNow.size(), modelLoads);
    }

    /** The unreadable shards as error rows (id null), rewritten by every run since they are rescanned. */
    private static void writeBadFiles(SparkSession spark, ShardCommits commits, Map<String, String> bad) {
        String dir = commits.partitionPath(ShardCommits.ERRORS, ShardCommits.BAD_FILES_KEY);
        List<Row> rows = new ArrayList<>();
        bad.forEach((f, why) -> rows.add(RowFactory.create(null, f, "bad shard: " + why)));
        if (!rows.isEmpty()) {
            spark.sparkContext().setJobDescription("mipflow write bad-shard errors");
            spark.createDataFrame(rows, DecodeSchemas.errors()).coalesce(1).write().mode(SaveMode.Overwrite).parquet(dir);
        }
    }

    /**
     * What the executors will compute in and how they will batch, as this driver's machine would
     * decide it (executors decide for their own device; their choice is in summary.json).
     */
    private static void printPlan(Dataset<Row> all, DecodeSettings settings, DecoderFacts facts) {
        Bf16Support.Verdict cpu = Bf16Support.of(Device.cpu());
        NumericPath here = settings.numerics().resolve(cpu.supported());
        System.out.printf("decode: numerics %s/%s -> %s on a CPU like this driver's (%s)%n",
                settings.numerics().precision(), settings.numerics().layout(), here.label(), cpu.reason());
        if (settings.batchSize() > 0) {
            System.out.printf("decode: batch size %d (fixed)%n", settings.batchSize());
            return;
        }
        List<Row> first = all.select(DecodeSchemas.H, DecodeSchemas.W).limit(1).collectAsList();
        if (first.isEmpty() || first.get(0).isNullAt(0) || first.get(0).isNullAt(1)) {
            System.out.printf("decode: batch size auto (%d MiB working set per task)%n", settings.budget().bytes() >> 20);
            return;
        }
        int h = first.get(0).getInt(0) * facts.downsample();
        int w = first.get(0).getInt(1) * facts.downsample();
        long per = facts.bytesPerImage(here, h, w);
        System.out.printf(Locale.ROOT, "decode: batch size auto: %d MiB working set per task / %.1f MiB per %dx%d image "
                + "(the first row's size) = %d; each batch is sized from its own rows%n",
                settings.budget().bytes() >> 20, per / 1048576.0, w, h, settings.budget().batchFor(per));
    }

    static void writeSummary(String out, Summary s, DecodeSettings settings, int badShards, Configuration conf)
            throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("bad_shards", badShards);
        o.addProperty("resumed_shards", s.resumedShards());
        o.addProperty("model_loads", s.modelLoads().size());
        o.add("model_devices", new com.google.gson.Gson().toJsonTree(s.modelLoads()));
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
        if (settings.batchSize() > 0) {
            o.addProperty("batch_size", settings.batchSize());
        } else {
            o.addProperty("batch_size", "auto");
        }
        o.addProperty("memory_budget_bytes", settings.budget().bytes());
        o.addProperty("precision", settings.numerics().precision());
        o.addProperty("layout", settings.numerics().layout());
        o.addProperty("seed", settings.seed());
        o.add("per_shard", s.perShard());
        String json = new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(out, "summary.json");
        FileSystem fs = p.getFileSystem(conf);
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
