package org.mipflow.jobs.decode;

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
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.LatentSpec;
import org.mipflow.jobs.cli.Interruption;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.ErrorReasons;
import org.mipflow.jobs.output.InputOutputCheck;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.OutputLease;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.metrics.KernelInceptionDistance;
import org.mipflow.metrics.Metric;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.NumericPath;
import org.mipflow.recipe.Recipe;
import org.mipflow.sampling.Batching;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.ExecutorDevices;
import org.mipflow.spark.FeatureSettings;
import org.mipflow.spark.InvalidRows;
import org.mipflow.spark.LatentColumns;
import org.mipflow.spark.TaskSlots;

/**
 * The decode job: Parquet latents in, images + errors + summary.json out, every input row in
 * exactly one of images/ and errors/. Scan ({@link ShardScan}), plan ({@link WavePlan}), decode
 * and commit wave by wave ({@link WaveDecoder}, {@link WaveCommits}), then the summary pooled
 * from the commit records.
 */
public final class DecodeJob {

    /**
     * One run's request.
     *
     * @param failFast stop at the first bad shard or row instead of reporting it and going on
     * @param policy what to do with an earlier run's output under {@code out}: refuse it (FRESH),
     *     keep its committed shards and decode the rest (RESUME), or replace it (OVERWRITE)
     * @param dryRun list, scan and plan only: nothing decoded, nothing written
     * @param waveRows a wave closes at this many rows (0: {@link #waveRows(SparkSession)});
     * @param waveShards and at this many shards
     * @param partitionWrapper a test seam: wraps the partition function of every wave (identity
     *     here; {@code TaskFaultTest} makes tasks fail with it)
     */
    public record Request(List<String> inputs, String out, DecodeSettings settings, LatentColumns columns,
            boolean failFast, WritePolicy policy, boolean dryRun, long waveRows, int waveShards,
            UnaryOperator<MapPartitionsFunction<Row, Row>> partitionWrapper) {
        /** 0: sized from the cluster, see {@link #waveRows(SparkSession)}. */
        public static final long DEFAULT_WAVE_ROWS = 0;
        public static final int DEFAULT_WAVE_SHARDS = 5_000;

        public static Request of(List<String> inputs, String out, DecodeSettings settings) {
            return new Request(inputs, out, settings, LatentColumns.DEFAULT, false, WritePolicy.FRESH, false,
                    DEFAULT_WAVE_ROWS, DEFAULT_WAVE_SHARDS, UnaryOperator.identity());
        }

        public boolean resume() {
            return policy == WritePolicy.RESUME;
        }

        /** A bad row fails the run with --fail-fast, else it is reported in errors/. */
        public InvalidRows invalidRows() {
            return failFast ? InvalidRows.ERROR : InvalidRows.KEEP;
        }

        /** Test seam, see {@link #partitionWrapper}. */
        Request withPartitionWrapper(UnaryOperator<MapPartitionsFunction<Row, Row>> w) {
            return new Request(inputs, out, settings, columns, failFast, policy, dryRun, waveRows, waveShards, w);
        }

        /** {@code resume} false: FRESH. */
        public Request withFlags(boolean failFast, boolean resume, boolean dryRun) {
            return withFlags(failFast, resume ? WritePolicy.RESUME : WritePolicy.FRESH, dryRun);
        }

        public Request withFlags(boolean failFast, WritePolicy policy, boolean dryRun) {
            return new Request(inputs, out, settings, columns, failFast, policy, dryRun, waveRows, waveShards,
                    partitionWrapper);
        }

        public Request withPolicy(WritePolicy p) {
            return withFlags(failFast, p, dryRun);
        }

        public Request withWaves(long rows, int shards) {
            return new Request(inputs, out, settings, columns, failFast, policy, dryRun, rows, shards,
                    partitionWrapper);
        }

        /**
         * The wave size in rows: as asked, or (auto) 500 rows per task slot in the cluster and at
         * least 20,000, so that a wave's tail (slots idle while its last tasks finish) stays a
         * small part of it, while a kill loses at most one wave.
         */
        public long waveRows(SparkSession spark) {
            return waveRows > 0 ? waveRows : Math.max(20_000L, 500L * spark.sparkContext().defaultParallelism());
        }

        public Request withOut(String o) {
            return new Request(inputs, o, settings, columns, failFast, policy, dryRun, waveRows, waveShards,
                    partitionWrapper);
        }

        public Request withSettings(DecodeSettings s) {
            return new Request(inputs, out, s, columns, failFast, policy, dryRun, waveRows, waveShards,
                    partitionWrapper);
        }

        public Request withColumns(LatentColumns c) {
            return new Request(inputs, out, settings, c, failFast, policy, dryRun, waveRows, waveShards,
                    partitionWrapper);
        }
    }

    /**
     * What a run did; also written as summary.json.
     *
     * @param forwardPasses forward passes of the network per image (its Euler steps)
     * @param networkRowsPerImage rows the network computes per image: a guided step's unconditional twin counted
     */
    public record Summary(long inputRows, long decoded, long errors, double seconds, double imagesPerSecond,
            Map<String, Double> metricMeans, String mode, int forwardPasses, int networkRowsPerImage, JsonObject perShard,
            int resumedShards, List<String> modelLoads, FeatureStats.Figures features, double cfgScale,
            Batching.Traffic traffic, ErrorReasons errorReasons, Map<String, String> badShards) {
        /** The mean of a requested metric, or null (not requested, or no image had it). */
        public Double mean(Metric m) {
            return metricMeans.get(m.column());
        }

        Summary withErrorReasons(ErrorReasons r) {
            return new Summary(inputRows, decoded, errors, seconds, imagesPerSecond, metricMeans, mode, forwardPasses,
                    networkRowsPerImage, perShard, resumedShards, modelLoads, features, cfgScale, traffic, r, badShards);
        }
    }

    /**
     * What a dry run found and would do; {@code traffic} is what the partitions would send to the
     * network per step with {@code batch} (rows, rows sent, padding).
     *
     * @param forwardPasses forward passes of the network over the pending rows
     * @param networkRows rows the network would compute over the pending rows (guidance counted)
     */
    public record Plan(int shards, int badShards, long rows, long duplicateIds, long duplicateRows,
            int committedShards, long committedRows, int pendingShards, long pendingRows, int waves, int partitions,
            int threads, long forwardPasses, int forwardPassesPerImage, long networkRows, int networkRowsPerImage,
            Batching.Plan batch, Batching.Traffic traffic) {}

    private DecodeJob() {}

    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings)
            throws UsageException, IOException {
        return run(spark, Request.of(inputs, out, settings));
    }

    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings,
            boolean failFast, boolean resume) throws UsageException, IOException {
        return run(spark, Request.of(inputs, out, settings).withFlags(failFast, resume, false));
    }

    public static Summary run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings,
            WritePolicy policy) throws UsageException, IOException {
        return run(spark, Request.of(inputs, out, settings).withPolicy(policy));
    }

    /**
     * Decodes under the output rules of {@link OutputGuard}: the lease is held from before the
     * scan to the end, and --overwrite's removal waits until the model and the scan are known good.
     */
    public static Summary run(SparkSession caller, Request req) throws UsageException, IOException {
        SparkSession spark = jobSession(caller);
        checkKidSample(req.settings().features(), Runtime.getRuntime().maxMemory());
        DecoderFacts facts = DecoderFacts.read(Path.of(req.settings().modelDir()));
        DecodeSettings settings = withRecipe(spark, withThreads(spark, req.settings()), facts, req.columns());
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        try (OutputGuard guard = OutputGuard.open("decode", req.out(), req.inputs(), req.policy(), WaveCommits.LAYOUT,
                conf)) {
            ShardScan.Result scan = scan(spark, req);
            guard.planIsValid();
            return run(spark, req, settings, facts, scan, guard);
        }
    }

    private static Summary run(SparkSession spark, Request req, DecodeSettings settings, DecoderFacts facts,
            ShardScan.Result scan, OutputGuard guard) throws IOException, UsageException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        try (WaveCommits commits = new WaveCommits(req.out(), conf, guard::checkHeld, settings.recipe().toJson())) {
            try {
                return run(spark, req, settings, facts, scan, guard, commits);
            } catch (Exception e) {
                // A failed run (--fail-fast, a lost lease, a failed job) leaves what it committed and
                // nothing half-written, so that a plain rerun is not refused over its staging alone.
                try {
                    guard.checkHeld(); // never into an output another run has taken over
                    commits.dropStaging();
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                throw e;
            }
        }
    }

    private static Summary run(SparkSession spark, Request req, DecodeSettings settings, DecoderFacts facts,
            ShardScan.Result scan, OutputGuard guard, WaveCommits commits) throws IOException, UsageException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        Map<String, WaveCommits.Record> done = new HashMap<>();
        if (req.resume()) {
            Map<String, WaveCommits.Record> committed = commits.records();
            checkRecipe(commits.recipes(), settings.recipe());
            done.putAll(commits.recover(committed));
        }
        List<ShardScan.Shard> pending = pending(scan, done);
        if (req.resume()) {
            System.out.printf("resume: %d shard(s) already committed, %d to decode%n",
                    scan.good().size() - pending.size(), pending.size());
        }
        String run = "run-" + UUID.randomUUID().toString().substring(0, 8);
        Duplicates dups = Duplicates.find(spark, scan.ids(), commits.staging(run, "duplicate-ids"));
        scan.release().run();
        if (dups.counts().ids() > 0) {
            System.out.printf("decode: %d id(s) occur more than once (%d rows); those rows go to errors%n",
                    dups.counts().ids(), dups.counts().rows());
        }
        List<WavePlan.Wave> waves = WavePlan.plan(pending, req.waveRows(spark), req.waveShards(), run);
        long pendingRows = pending.stream().mapToLong(ShardScan.Shard::rows).sum();
        System.out.printf("decode: %d shard(s), %d row(s) to decode in %d wave(s); %d libtorch thread(s) per task, "
                + "%d task slot(s) per executor%n", pending.size(), pendingRows, waves.size(),
                settings.intraOpThreads(), TaskSlots.of(spark));
        Batching.Plan batch = printPlan(settings, facts, firstImageSide(spark, pending, req.columns(), facts));
        WaveDecoder decoder = new WaveDecoder(spark, commits, settings, req.columns(), dups, req.invalidRows(),
                req.partitionWrapper(), spark.sparkContext().defaultParallelism(), batch.unit());
        WaveCommits.Features features = startFeatures(settings, commits.recoveredFeatures(),
                commits.recipes().keySet());
        long t0 = System.nanoTime();
        java.util.concurrent.atomic.AtomicInteger committedWaves = new java.util.concurrent.atomic.AtomicInteger();
        Map<String, WaveCommits.Record> kept = new java.util.concurrent.ConcurrentHashMap<>(done);
        Interruption.keeping(() -> String.format(Locale.ROOT, "%d of %d shard(s) committed under %s (%d row(s)), "
                + "%d of this run's %d wave(s)", kept.size(), scan.good().size(), req.out(),
                kept.values().stream().mapToLong(WaveCommits.Record::input).sum(), committedWaves.get(), waves.size()));
        try (Progress p = new Progress(spark, pendingRows, 10_000)) {
            for (WavePlan.Wave w : waves) {
                for (WaveCommits.Record r : decoder.decode(w, features)) {
                    done.put(ShardKey.of(r.shardPath()), r);
                    kept.put(ShardKey.of(r.shardPath()), r);
                }
                committedWaves.incrementAndGet();
                features = features == null ? null : decoder.features();
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        commits.dropStaging();
        System.out.println(Progress.line(decoder.decodedRows(), decoder.failedRows(), pendingRows, seconds));
        guard.checkHeld();
        writeBadShards(spark, commits, scan.bad());
        java.util.Set<String> decodedNow = new java.util.HashSet<>(paths(pending));
        FeatureStats.Figures figures = null;
        if (features != null) {
            long f0 = System.nanoTime();
            figures = figuresOf(features.stats()::figures, features.stats().count());
            System.out.printf(Locale.ROOT, "decode: rFID %s, KID %s over %d image(s) (%.1f s)%s%n",
                    fmt(figures.rfid()), fmt(figures.kid()), figures.images(), (System.nanoTime() - f0) / 1e9,
                    figures.problem() == null ? "" : ": " + figures.problem());
        }
        Summary sm = summary(scan, done, decodedNow, seconds, decoder.decodedRows(), settings, facts,
                decoder.modelLoads(), figures, decoder.traffic());
        if (sm.errors() > 0) {
            spark.sparkContext().setJobDescription("mipflow count error reasons");
            sm = sm.withErrorReasons(ErrorReasons.of(spark.read().parquet(
                    new org.apache.hadoop.fs.Path(req.out(), WaveCommits.ERRORS).toString())));
        }
        guard.checkHeld();
        writeSummary(req.out(), sm, settings, scan.bad().size(), conf);
        return sm;
    }

    /**
     * The driver holds KID's kernel matrices over the whole sample ({@link KernelInceptionDistance#driverBytes}):
     * a sample whose matrices need more than a quarter of the driver's heap is refused before any work.
     */
    static void checkKidSample(FeatureSettings f, long driverHeap) throws UsageException {
        if (f == null) {
            return;
        }
        long share = driverHeap / 4;
        int max = KernelInceptionDistance.maxSample(share, f.dim());
        if (f.kidSample() > max) {
            throw new UsageException(String.format(Locale.ROOT, "--kid-sample %d needs about %d MiB on the driver for "
                    + "KID's kernel matrices (%d-d features); a quarter of this driver's %d MiB heap holds at most %d "
                    + "rows: lower --kid-sample or raise the driver's memory (spark.driver.memory)", f.kidSample(),
                    KernelInceptionDistance.driverBytes(f.kidSample(), f.dim()) >> 20, f.dim(), driverHeap >> 20, max));
        }
    }

    /**
     * rFID and KID, or null figures with the reason when computing them fails (summary.json is still
     * written: the images are good whatever happens to the figures).
     */
    static FeatureStats.Figures figuresOf(java.util.function.Supplier<FeatureStats.Figures> compute, long images) {
        try {
            return compute.get();
        } catch (RuntimeException | OutOfMemoryError e) {
            String why = e instanceof OutOfMemoryError ? "the driver ran out of memory (" + e.getMessage() + "); "
                    + "lower --kid-sample or raise spark.driver.memory"
                    : java.util.Objects.requireNonNullElse(e.getMessage(), "a numerical failure");
            return new FeatureStats.Figures(null, null, null, images, 0, 0, "the figures could not be computed: " + why);
        }
    }

    /**
     * The feature statistics a run starts from: what the committed waves kept (on --resume),
     * else none; null without --features. A resume with another feature network, or another KID
     * sample size or seed, is refused: its figures would mix two definitions. So is a resume whose
     * committed waves' statistics do not cover every committed wave (the recipe check refuses
     * --features over waves committed without it; this guards against a statistics file lost since):
     * figures over part of the run would be given as the run's.
     */
    private static WaveCommits.Features startFeatures(DecodeSettings settings, WaveCommits.Features recovered,
            java.util.Set<String> committedWaves) throws UsageException {
        FeatureSettings f = settings.features();
        if (f == null) {
            return null;
        }
        FeatureStats empty = f.emptyStats(settings.seed());
        java.util.Set<String> covered = recovered == null ? java.util.Set.of() : recovered.waves();
        if (!covered.containsAll(committedWaves)) {
            java.util.Set<String> missing = new java.util.TreeSet<>(committedWaves);
            missing.removeAll(covered);
            throw new UsageException("--resume --features: the feature statistics of " + missing.size()
                    + " committed wave(s) (first " + missing.iterator().next() + ") are not under the output, so rFID "
                    + "and KID could not cover the whole run; add --overwrite to start over, or choose another --out");
        }
        if (recovered == null) {
            return new WaveCommits.Features(f.sha256(), java.util.Set.of(), empty);
        }
        if (!recovered.sha256().equals(f.sha256())) {
            throw new UsageException("--resume --features " + f.dir() + ": the committed waves' features came from "
                    + "another network (SHA-256 " + recovered.sha256() + "); resume with that one, or start over");
        }
        try {
            recovered.stats().merge(empty); // merging nothing checks dimension, sample size and seed
        } catch (IllegalArgumentException e) {
            throw new UsageException("--resume --features: " + e.getMessage() + "; resume with the settings of the "
                    + "run that committed them (--seed, --kid-sample), or start over");
        }
        return recovered;
    }

    private static String fmt(Double d) {
        return d == null ? "null" : String.format(Locale.ROOT, "%.6g", d);
    }

    /** Lists, scans and plans without decoding or writing anything. */
    public static Plan dryRun(SparkSession caller, Request req) throws UsageException, IOException {
        SparkSession spark = jobSession(caller);
        DecoderFacts facts = DecoderFacts.read(Path.of(req.settings().modelDir()));
        DecodeSettings settings = withRecipe(spark, withThreads(spark, req.settings()), facts, req.columns());
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        // The checks a run would make first, without its lease: a dry run writes nothing.
        InputOutputCheck.check(req.inputs(), req.out(), conf);
        OutputLease.refuseIfLive(req.out(), conf);
        new OutputDir(req.out(), WaveCommits.LAYOUT, conf).check(req.policy());
        ShardScan.Result scan = scan(spark, req);
        Map<String, WaveCommits.Record> done = req.resume() ? committed(spark, req.out(), settings.recipe()) : Map.of();
        List<ShardScan.Shard> pending = pending(scan, done);
        long t0 = System.nanoTime();
        Duplicates.Counts dups = Duplicates.count(spark, scan.ids());
        scan.release().run();
        System.out.printf(Locale.ROOT, "decode: counted duplicate ids in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        t0 = System.nanoTime();
        List<WavePlan.Wave> waves = WavePlan.plan(pending, req.waveRows(spark), req.waveShards(), "dry-run");
        Batching.Plan batch = printPlan(settings, facts, firstImageSide(spark, pending, req.columns(), facts));
        int partitions = 0;
        Batching.Traffic traffic = Batching.Traffic.NONE;
        int clusterSlots = spark.sparkContext().defaultParallelism();
        for (WavePlan.Wave w : waves) {
            TaskPacking p = WaveDecoder.packing(w, clusterSlots, batch.unit());
            partitions += p.partitions();
            traffic = traffic.plus(p.traffic(batch));
        }
        System.out.printf(Locale.ROOT, "decode: planned %d wave(s) in %.1f s%n", waves.size(),
                (System.nanoTime() - t0) / 1e9);
        long pendingRows = pending.stream().mapToLong(ShardScan.Shard::rows).sum();
        long committedRows = scan.rows() - pendingRows;
        return new Plan(scan.good().size() + scan.bad().size(), scan.bad().size(), scan.rows(), dups.ids(), dups.rows(),
                scan.good().size() - pending.size(), committedRows, pending.size(), pendingRows, waves.size(),
                partitions, settings.intraOpThreads(), pendingRows * facts.forwardPasses(settings.sampler()),
                facts.forwardPasses(settings.sampler()), pendingRows * facts.networkRowsPerImage(settings.sampler()),
                facts.networkRowsPerImage(settings.sampler()), batch, traffic);
    }

    static final String PARTITION_DISCOVERY_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism";

    /**
     * The session the job reads and writes through: a new session of the caller's SparkContext
     * (same executors, cache and Hadoop configuration) with the caller's SQL settings copied and the
     * job's own on top, so the caller's session is never changed. Spark lists explicit file paths
     * with one task per path (up to 10,000 by default): for many tiny shards, in the scan and in
     * every wave's read, that is task overhead, not listing; a few tasks per core list as fast.
     * That setting is read from the session's SQL conf only (no read option carries it), hence a
     * session of the job's own rather than options on its reads.
     */
    static SparkSession jobSession(SparkSession caller) {
        SparkSession own = caller.newSession();
        for (var e : scala.jdk.javaapi.CollectionConverters.asJava(caller.conf().getAll()).entrySet()) {
            if (own.conf().isModifiable(e.getKey())) {
                own.conf().set(e.getKey(), e.getValue());
            }
        }
        own.conf().set(PARTITION_DISCOVERY_PARALLELISM,
                Integer.toString(Math.max(8, 4 * caller.sparkContext().defaultParallelism())));
        return own;
    }

    private static ShardScan.Result scan(SparkSession spark, Request req) throws UsageException {
        long t0 = System.nanoTime();
        ShardScan.Result scan = ShardScan.scan(spark, req.inputs(), req.columns());
        System.out.printf(Locale.ROOT, "decode: scanned %d shard(s) (%d bad), %d row(s), in %.1f s%n",
                scan.good().size() + scan.bad().size(), scan.bad().size(), scan.rows(), (System.nanoTime() - t0) / 1e9);
        if (req.failFast() && !scan.bad().isEmpty()) {
            var first = scan.bad().entrySet().iterator().next();
            throw new UsageException("--fail-fast: shard " + first.getKey() + " " + first.getValue());
        }
        int shown = 0;
        for (var e : scan.bad().entrySet()) {
            if (shown++ == 20) {
                System.out.printf("... and %d more bad shard(s), all listed in errors/ and summary.json%n",
                        scan.bad().size() - 20);
                break;
            }
            System.out.println("skipping shard " + e.getKey() + ": " + e.getValue());
        }
        return scan;
    }

    /** Commit records already under {@code out}, read without changing anything (dry run); their recipe checked. */
    private static Map<String, WaveCommits.Record> committed(SparkSession spark, String out, Recipe recipe)
            throws IOException, UsageException {
        Map<String, WaveCommits.Record> done = new HashMap<>();
        try (WaveCommits c = new WaveCommits(out, spark.sparkContext().hadoopConfiguration(), () -> {})) {
            done.putAll(c.records());
            checkRecipe(c.recipes(), recipe);
        }
        return done;
    }

    /**
     * The run's recipe, resolved once here, before the first task, from what the executors declare
     * (the rule: {@link Recipe#resolve}); every task decodes with it.
     */
    private static DecodeSettings withRecipe(SparkSession spark, DecodeSettings s, DecoderFacts facts,
            LatentColumns cols) {
        ExecutorDevices.Resolution r = ExecutorDevices.resolve(spark, s, facts, cols.defaultEncoding());
        System.out.println("decode: recipe: " + r.describe());
        return s.withRecipe(r.recipe());
    }

    /**
     * On --resume: the committed waves must have been made with this run's recipe, field by field;
     * else the output would mix two kinds of image. Refused before anything under OUT changes.
     */
    static void checkRecipe(Map<String, JsonObject> committed, Recipe recipe) throws UsageException {
        java.util.Set<String> fields = new java.util.LinkedHashSet<>();
        String without = null;
        for (var e : committed.entrySet()) {
            if (e.getValue() == null) {
                without = without == null ? e.getKey() : without;
            } else {
                fields.addAll(recipe.differences(e.getValue()));
            }
        }
        String ways = "; add --overwrite to start over, or choose another --out";
        if (!fields.isEmpty()) {
            throw new UsageException("--resume: the committed waves were decoded with another recipe: "
                    + String.join(", ", fields) + ways);
        }
        if (without != null) {
            throw new UsageException("--resume: wave " + without + " was committed by an earlier Mipflow without a "
                    + "recipe, so its images cannot be shown to match this run's" + ways);
        }
    }

    private static List<ShardScan.Shard> pending(ShardScan.Result scan, Map<String, WaveCommits.Record> done) {
        return scan.good().stream().filter(s -> !done.containsKey(ShardKey.of(s.path()))).toList();
    }

    private static List<String> paths(List<ShardScan.Shard> shards) {
        return shards.stream().map(ShardScan.Shard::path).toList();
    }

    /**
     * Threads per task from the session's task slots (never from the data: see {@link TaskSlots}),
     * unless --threads asked for a number.
     */
    private static DecodeSettings withThreads(SparkSession spark, DecodeSettings s) {
        return s.intraOpThreads() > 0 ? s : s.withIntraOpThreads(TaskSlots.intraOpThreads(spark));
    }

    /** Pools the commit records of every good shard, this run's and earlier runs', into the summary. */
    private static Summary summary(ShardScan.Result scan, Map<String, WaveCommits.Record> done,
            java.util.Set<String> decodedNow, double seconds, long imagesNow, DecodeSettings settings, DecoderFacts facts,
            List<String> modelLoads, FeatureStats.Figures features, Batching.Traffic traffic) {
        long input = 0;
        long decoded = 0;
        Map<String, WaveCommits.MetricSum> pooled = new java.util.LinkedHashMap<>();
        for (String m : settings.metrics().names()) {
            pooled.put(m, new WaveCommits.MetricSum(0, 0));
        }
        JsonObject shards = new JsonObject();
        for (ShardScan.Shard s : scan.good()) {
            WaveCommits.Record r = done.get(ShardKey.of(s.path()));
            input += r.input();
            decoded += r.decoded();
            r.metrics().forEach((m, sum) -> pooled.computeIfPresent(m, (k, total) -> total.plus(sum)));
            JsonObject o = new JsonObject();
            o.addProperty("input", r.input());
            o.addProperty("decoded", r.decoded());
            o.addProperty("errors", r.errors());
            o.addProperty("resumed", !decodedNow.contains(s.path()));
            shards.add(s.path(), o);
        }
        scan.bad().forEach((f, why) -> {
            JsonObject b = new JsonObject();
            b.addProperty("error", why);
            shards.add(f, b);
        });
        return new Summary(input, decoded, input - decoded, seconds, imagesNow / Math.max(seconds, 1e-9),
                means(pooled),
                settings.sampler().mode().label(), facts.forwardPasses(settings.sampler()),
                facts.networkRowsPerImage(settings.sampler()), shards, scan.good().size() - decodedNow.size(),
                modelLoads, features, facts.cfgScale(settings.sampler()), traffic, ErrorReasons.NONE,
                java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(scan.bad())));
    }

    /** The unreadable shards as error rows (id null), rewritten by every run since they are rescanned. */
    private static void writeBadShards(SparkSession spark, WaveCommits commits, Map<String, String> bad) {
        String dir = commits.partitionPath(WaveCommits.ERRORS, WaveCommits.BAD_SHARDS);
        List<Row> rows = new ArrayList<>();
        bad.forEach((f, why) -> rows.add(RowFactory.create(null, f, "bad shard: " + why, ShardKey.of(f))));
        if (!rows.isEmpty()) {
            spark.sparkContext().setJobDescription("mipflow write bad-shard errors");
            spark.createDataFrame(rows, DecodeSchemas.errors().add(WaveDecoder.SHARD_KEY, "string"))
                    .coalesce(1).write().mode(SaveMode.Overwrite).parquet(dir);
        }
    }

    /**
     * How the recipe batches the images (B as the recipe resolved it, for the first pending row's
     * size or a token model's own); returns the plan the waves' partitions are packed for.
     */
    private static Batching.Plan printPlan(DecodeSettings settings, DecoderFacts facts, int side) {
        Recipe r = settings.recipe();
        NumericPath numerics = r.numerics() == null ? NumericPath.NATIVE : r.numerics();
        long rowBytes = facts.bytesPerRow(numerics, side, side);
        Batching.Plan plan = r.rowsPerCall().plan(settings.batching().taskRows(), side, side, rowBytes);
        System.out.printf(Locale.ROOT, "decode: %s; a %dx%d image goes %d row(s) per network call, %d image(s) per "
                + "task batch (each %.1f MiB in the network)%n", settings.batching().describe(), side, side,
                plan.callRows(), plan.taskRows(), rowBytes / 1048576.0);
        return plan;
    }

    /**
     * The image side the plan is made for: a token model's own, else the first pending row's (its
     * latent height times the model's downsampling; one small read), else 256.
     */
    private static int firstImageSide(SparkSession spark, List<ShardScan.Shard> pending, LatentColumns cols,
            DecoderFacts facts) {
        if (facts.latent() instanceof LatentSpec.Tokens t) {
            return t.imageSize();
        }
        for (ShardScan.Shard s : pending) {
            if (s.rows() > 0) {
                try {
                    Row r = spark.read().parquet(s.path()).select(cols.height()).limit(1).first();
                    if (!r.isNullAt(0) && r.getInt(0) > 0) {
                        return r.getInt(0) * facts.downsample();
                    }
                } catch (RuntimeException e) {
                    // a shard the scan passed but the read fails: the decode reports it; plan for 256
                }
                break;
            }
        }
        return 256;
    }

    /** Each requested metric's mean over the images that have it, or null where none has. */
    private static Map<String, Double> means(Map<String, WaveCommits.MetricSum> pooled) {
        Map<String, Double> means = new java.util.LinkedHashMap<>();
        pooled.forEach((m, s) -> means.put(m, s.rows() == 0 ? null : s.sum() / s.rows()));
        return java.util.Collections.unmodifiableMap(means);
    }

    /** rFID and KID, the image counts they are over, the network; null figures with their reason. */
    private static void addFeatureFigures(JsonObject o, FeatureStats.Figures f, FeatureSettings fs) {
        o.addProperty("rfid", f.rfid());
        o.addProperty("kid", f.kid());
        o.addProperty("kid_std", f.kidStd());
        o.addProperty("rfid_images", f.images());
        o.addProperty("kid_images", f.kidImages());
        o.addProperty("kid_subsets", f.problem() == null ? KernelInceptionDistance.SUBSETS : 0);
        o.addProperty("kid_subset_size", f.kidSubsetSize());
        o.addProperty("features", fs.dir());
        o.addProperty("features_sha256", fs.sha256());
        o.addProperty("features_error", f.problem());
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
        o.add("error_reasons", s.errorReasons().json());
        o.addProperty("mode", s.mode());
        o.addProperty("forward_passes", s.forwardPasses());
        o.addProperty("network_rows_per_image", s.networkRowsPerImage());
        o.addProperty("cfg_scale", s.cfgScale());
        o.addProperty("decode_seconds", s.seconds());
        o.addProperty("images_per_second", s.imagesPerSecond());
        o.add("metrics", new com.google.gson.Gson().toJsonTree(settings.metrics().names()));
        for (Metric m : settings.metrics().metrics()) {
            o.addProperty(m.summaryKey(), s.metricMeans().get(m.column()));
        }
        o.addProperty("model", settings.modelDir());
        // B is part of what an image's bytes depend on; model_devices says what each executor made of "auto"
        Batching b = settings.batching();
        o.addProperty("rows_per_call", Batching.label(b.callRows()));
        o.addProperty("batch_size", Batching.label(b.taskRows()));
        o.addProperty("memory_budget_bytes", b.budgetBytes() > 0 ? Long.toString(b.budgetBytes()) : "auto");
        // per step: rows given to the network, rows its calls carried, and the padding between
        o.addProperty("rows_sent", s.traffic().sent());
        o.addProperty("rows_padded", s.traffic().padded());
        o.addProperty("padding_fraction", s.traffic().paddingFraction());
        o.addProperty("precision", settings.numerics().precision());
        o.addProperty("layout", settings.numerics().layout());
        o.addProperty("threads_per_task", settings.intraOpThreads());
        o.addProperty("seed", settings.seed());
        // what the images were made with, every auto resolved; the keys above are as asked
        o.add("recipe", settings.recipe().toJson());
        if (settings.features() != null) {
            addFeatureFigures(o, s.features(), settings.features());
        }
        o.add("per_shard", s.perShard());
        String json = new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(out, "summary.json");
        FileSystem fs = p.getFileSystem(conf);
        try (OutputStream os = fs.create(p, true)) {
            os.write(json.getBytes(StandardCharsets.UTF_8));
        }
    }
}
