package org.mipflow.jobs.decode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.BatchingOptions;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.NumericsOptions;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.SamplingOptions;
import org.mipflow.jobs.cli.SparkSupport;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.ErrorReasons;
import org.mipflow.jobs.output.InputOutputCheck;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputLease;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.metrics.Metric;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.ModelFormatException;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.FeatureSettings;
import org.mipflow.spark.HadoopConf;
import org.mipflow.spark.InvalidRows;
import org.mipflow.spark.LatentColumns;

/** {@code mipflow decode}: the main job. */
public final class DecodeCommand implements Command {
    @Override
    public String name() {
        return "decode";
    }

    @Override
    public String summary() {
        return "Decodes Parquet latents into PNG images with per-image PSNR/SSIM, on Spark.\n"
                + "Writes OUT/images/ (Parquet), OUT/errors/ (Parquet, one row per row that could not be\n"
                + "decoded, with the reason), both with a shard column, decoded and committed in waves of\n"
                + "whole shards (one Spark job each; --resume skips committed ones), and OUT/summary.json.\n"
                + "An OUT that holds an earlier run's output is refused unless --resume or --overwrite says what\n"
                + "to do; one run at a time per OUT (OUT/_lease.json); OUT must not be, contain or lie in an input.\n"
                + "--dry-run only scans and plans. Runs on embedded local Spark unless launched by spark-submit.";
    }

    @Override
    public List<Options.Spec> options() {
        List<Options.Spec> specs = new ArrayList<>(List.of(
                Options.Spec.value("input", "PATHS", "sample-data/latents",
                        "Parquet file, directory of shards or glob; comma-separated; any Hadoop URI"),
                Options.Spec.value("out", "DIR", "out/decode", "output directory (any Hadoop URI)"),
                Options.Spec.value("model", "DIR", "models/default", "model directory")));
        specs.addAll(SamplingOptions.specs(
                "full | multiscale | onestep | auto (default auto: the fastest mode the model was trained for, onestep, then multiscale, then full)"));
        specs.addAll(BatchingOptions.specs());
        specs.addAll(NumericsOptions.specs());
        specs.addAll(List.of(
                Options.Spec.value("seed", "N", "0", "global noise seed; each image's noise comes from (seed, id)"),
                Options.Spec.value("png-dir", "DIR", null, "also write one PNG file per image here"),
                Options.Spec.value("master", "URL", null, "Spark master for embedded runs (default local[*])"),
                Options.Spec.value("threads", "N", null,
                        "libtorch threads per executor JVM (default: cores / concurrent tasks)"),
                Options.Spec.value("max-latent-side", "N", Integer.toString(RowLimits.DEFAULT.maxLatentSide()),
                        "largest latent height or width accepted"),
                Options.Spec.value("engine-cache", "DIR", null, "where libtorch is extracted once (default: $ENGINE_CACHE_DIR, which bin/mipflow sets to the repository's .djl-cache; else ~/.djl.ai)"),
                Options.Spec.value("metrics", "LIST", "psnr,ssim",
                        "per-image metrics against the reference, any of " + MetricSet.ALL),
                Options.Spec.value("features", "DIR", null, "a feature network (TorchScript + model.json, docs/quality.md): rFID and KID of the decoded images against their references in "
                        + "summary.json"),
                Options.Spec.value("kid-sample", "N", Integer.toString(FeatureSettings.DEFAULT_KID_SAMPLE),
                        "rows kept (a seeded random sample) for KID"),
                Options.Spec.value("latent-dtype", "T", null,
                        "encoding of BINARY latents without a latent_dtype column: float16 | bfloat16 | float32"),
                Options.Spec.value("wave-rows", "N", "auto", "shards are decoded and committed in waves (one Spark "
                        + "job each) of about this many rows; auto: 500 per task slot, at least 20000"),
                Options.Spec.value("wave-shards", "N", Integer.toString(DecodeJob.Request.DEFAULT_WAVE_SHARDS),
                        "and of at most this many shards"),
                Options.Spec.flag("dry-run", "list, scan and plan only (shards, rows, duplicate ids, waves, "
                        + "partitions, batch plan); decode and write nothing"),
                Options.Spec.flag("fail-fast", "stop at the first bad shard or row instead of reporting it"),
                Options.Spec.flag("resume", "keep the shards a killed or failed run over the same --out committed; "
                        + "decode only the rest"),
                Options.Spec.flag("overwrite", "replace an earlier run's output under --out (its images/, errors/, "
                        + "_commits/, summary.json; other files stay), once the new run's plan is valid; without "
                        + "--resume or --overwrite a run refuses an --out that holds output")));
        return specs;
    }

    @Override
    public int run(Options o) throws Exception {
        WritePolicy policy = WritePolicy.of(o.flag("resume"), o.flag("overwrite"));
        BatchingOptions batching = BatchingOptions.parse(o);
        NumericPath.Request numerics = NumericsOptions.parse(o).request();
        long seed = o.getLong("seed");
        int maxSide = o.getInt("max-latent-side", 1, 4096);
        Path model = o.directory("model", "model directory");
        MetricSet metrics;
        try {
            metrics = MetricSet.parse(o.get("metrics"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        DecoderFacts facts = DecoderFacts.read(model);
        int stages = facts.schedule().stages();
        boolean student = facts.hasStudent();
        SamplerConfig sampler = SamplingOptions.parse(o).config(stages, student, facts.modes(), model.toString());
        try {
            facts.check(model.toString(), sampler);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        FeatureSettings features = null;
        if (o.has("features")) {
            Path dir = o.directory("features", "feature network directory");
            try {
                features = FeatureSettings.of(dir, o.getInt("kid-sample", 2, 1_000_000));
            } catch (ModelFormatException e) {
                throw new UsageException(e.getMessage());
            }
        }
        List<String> inputs = SparkSupport.resolveInputs(o.get("input"));
        String out = o.get("out");
        // Checked again by DecodeJob (the output under its lease); here they fail before Spark starts.
        org.apache.hadoop.conf.Configuration conf = HadoopConf.from(new SparkConf());
        InputOutputCheck.check(inputs, out, conf);
        OutputLease.refuseIfLive(out, conf);
        new OutputDir(out, WaveCommits.LAYOUT, conf).check(policy);
        SparkSession spark = SparkSupport.session("mipflow decode", o.getOr("master", null));
        try {
            int threads = 0;
            if (o.has("threads")) {
                threads = o.getInt("threads", 1, 1024);
                int fair = SparkSupport.intraOpThreads(spark);
                if (threads > fair && spark.sparkContext().master().startsWith("local")) {
                    System.out.printf("decode: --threads %d x %d tasks would exceed the %d cores; using %d%n", threads,
                            SparkSupport.taskSlots(spark), Runtime.getRuntime().availableProcessors(), fair);
                    threads = fair;
                }
            }
            DecodeSettings s = new DecodeSettings(model.toString(), sampler,
                    batching.batching(), seed, threads, o.getOr("engine-cache", null),
                    new RowLimits(maxSide, RowLimits.DEFAULT.maxReferenceBytes(),
                            RowLimits.DEFAULT.maxReferencePixels()),
                    o.getOr("png-dir", null), metrics, numerics).withFeatures(features);
            double w = facts.cfgScale(sampler);
            System.out.printf(Locale.ROOT, "decode: mode %s, %d forward passes and %d network rows per image%s, %d "
                    + "task slot(s)%n", sampler.mode().label(), facts.forwardPasses(sampler),
                    facts.networkRowsPerImage(sampler), w > 1 ? String.format(Locale.ROOT,
                            " (guided, W = %s: each image's unconditional twin is a row too)", w) : "",
                    SparkSupport.taskSlots(spark));
            LatentColumns cols = LatentColumns.DEFAULT.forLatent(facts.latent());
            if (o.has("latent-dtype")) {
                try {
                    cols = cols.withDefaultEncoding(LatentEncoding.parse(o.get("latent-dtype")));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            DecodeJob.Request req = DecodeJob.Request.of(inputs, out, s).withColumns(cols)
                    .withFlags(o.flag("fail-fast"), policy, o.flag("dry-run"))
                    .withWaves("auto".equals(o.get("wave-rows")) ? DecodeJob.Request.DEFAULT_WAVE_ROWS
                            : o.getLong("wave-rows"), o.getInt("wave-shards", 1, 1_000_000));
            if (req.waveRows() < 0) {
                throw new UsageException("--wave-rows must be auto or at least 1");
            }
            if (req.dryRun()) {
                printPlan(DecodeJob.dryRun(spark, req), out);
                return 0;
            }
            DecodeJob.Summary sm;
            try {
                sm = DecodeJob.run(spark, req);
            } catch (UsageException e) {
                throw e;
            } catch (Exception e) {
                // A failed job is Spark's SparkException: checked, but thrown by Scala undeclared.
                String m = failFastMessage(e);
                m = m == null ? org.mipflow.spark.CannotHonourRecipe.find(e) : m;
                if (m == null) {
                    throw e;
                }
                throw new UsageException(m);
            }
            System.out.printf(Locale.ROOT, "input rows %d = decoded %d + errors %d%n", sm.inputRows(), sm.decoded(),
                    sm.errors());
            sm.errorReasons().lines().forEach(System.out::println);
            printBadShards(sm.badShards());
            List<String> means = new ArrayList<>();
            for (Metric m : metrics.metrics()) {
                means.add(m.shortName() + " " + m.format(sm.mean(m)));
            }
            System.out.printf(Locale.ROOT, "%.2f images/s over %.1f s%s%n", sm.imagesPerSecond(), sm.seconds(),
                    means.isEmpty() ? "" : "; mean " + String.join(", ", means));
            System.out.println("images:  " + out + "/images");
            System.out.println("errors:  " + out + "/errors");
            System.out.println("summary: " + out + "/summary.json");
            if (s.pngDir() != null) {
                System.out.println("pngs:    " + s.pngDir());
            }
            if (sm.decoded() == 0 && (sm.inputRows() > 0 || !sm.badShards().isEmpty())) {
                System.err.println("mipflow decode: nothing was decoded: every input " + (sm.inputRows() > 0
                        ? "row went to errors (reasons above)" : "shard was unreadable (listed above)")
                        + "; exit code " + NOTHING_DECODED);
                return NOTHING_DECODED;
            }
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** The exit code of a run that had input and decoded none of it (README "Commands"). */
    public static final int NOTHING_DECODED = 3;

    /** Bad shards listed at the start of a run are repeated at its end, where a user looks. */
    private static void printBadShards(java.util.Map<String, String> bad) {
        if (bad.isEmpty()) {
            return;
        }
        System.out.printf(Locale.ROOT, "bad shards skipped: %d (listed in errors/ and summary.json)%n", bad.size());
        bad.entrySet().stream().limit(ErrorReasons.TOP)
                .forEach(e -> System.out.println("  " + e.getKey() + ": " + e.getValue()));
        if (bad.size() > ErrorReasons.TOP) {
            System.out.printf(Locale.ROOT, "  ... and %d more%n", bad.size() - ErrorReasons.TOP);
        }
    }

    private static void printPlan(DecodeJob.Plan p, String out) {
        System.out.printf(Locale.ROOT, "dry run: %d shard(s) (%d good, %d bad), %d row(s)%n", p.shards(),
                p.shards() - p.badShards(), p.badShards(), p.rows());
        System.out.printf(Locale.ROOT, "dry run: %d duplicated id(s) on %d row(s), which would go to errors%n",
                p.duplicateIds(), p.duplicateRows());
        System.out.printf(Locale.ROOT, "dry run: %d shard(s) with %d row(s) already committed under %s%n",
                p.committedShards(), p.committedRows(), out);
        System.out.printf(Locale.ROOT, "dry run: to decode: %d shard(s), %d row(s) in %d wave(s), %d partition(s), "
                + "%d libtorch thread(s) per task%n", p.pendingShards(), p.pendingRows(), p.waves(), p.partitions(),
                p.threads());
        System.out.printf(Locale.ROOT, "dry run: network calls of %d row(s), task batches of %d: %d row(s) sent per "
                + "step, %d of them padding (%.2f%%)%n", p.batch().callRows(), p.batch().taskRows(), p.traffic().sent(),
                p.traffic().padded(), 100 * p.traffic().paddingFraction());
        System.out.printf(Locale.ROOT, "dry run: work: %d forward passes per image, %d network rows per image (a "
                + "guided step's unconditional twin is a row too); %d forward passes, %d network rows in all; nothing "
                + "was decoded or written%n", p.forwardPassesPerImage(), p.networkRowsPerImage(), p.forwardPasses(),
                p.networkRows());
    }

    /**
     * The --fail-fast reason inside a failed Spark job, if that is why it failed: --fail-fast is
     * the partition function's handleInvalid=error, whose message is reported under the option's name.
     */
    private static String failFastMessage(Throwable e) {
        String marker = InvalidRows.Stop.PREFIX;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.contains(marker)) {
                String s = "--fail-fast: " + m.substring(m.indexOf(marker) + marker.length());
                int nl = s.indexOf('\n');
                return nl < 0 ? s : s.substring(0, nl);
            }
        }
        return null;
    }
}
