package org.mipflow.jobs.audit;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.LatentRow;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.BatchingOptions;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.SamplingOptions;
import org.mipflow.jobs.cli.SparkSupport;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.spark.HadoopConf;
import org.apache.spark.SparkConf;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.metrics.MetricSet;
import org.mipflow.metrics.SampleDistances;
import org.mipflow.model.DecoderModel;
import org.mipflow.model.FeatureNet;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelFormatException;
import org.mipflow.model.Models;
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.DecodedImage;
import org.mipflow.sampling.Sampler;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.LatentColumns;
import org.mipflow.spark.LatentRows;

/**
 * {@code mipflow audit}: a seeded sample of a latents data set with references, decoded in every
 * mode the model has, scored against the originals and against {@code full}, written as one
 * self-contained HTML report for a person to look at.
 */
public final class AuditCommand implements Command {
    @Override
    public String name() {
        return "audit";
    }

    @Override
    public String summary() {
        return "Decodes a seeded sample of a latents data set (rows with a reference) in full, multiscale and\n"
                + "onestep, and writes OUT/audit.html: side-by-side grids with error heat maps against full,\n"
                + "metric histograms, and per mode the mean metrics, the gap to full with 95% confidence\n"
                + "intervals, and the speed.";
    }

    @Override
    public List<Options.Spec> options() {
        List<Options.Spec> specs = new ArrayList<>(List.of(
                Options.Spec.value("input", "PATHS", "sample-data/latents", "latents Parquet (with a reference column)"),
                Options.Spec.value("out", "DIR", "out/audit", "where audit.html goes"),
                Options.Spec.value("model", "DIR", "models/default", "model directory (native or TorchScript)"),
                Options.Spec.value("sample", "N", "16", "images in the sample"),
                Options.Spec.value("seed", "N", "0", "seed of the sample and of the noise")));
        specs.addAll(SamplingOptions.specs(null));
        specs.add(Options.Spec.value("metrics", "LIST", MetricSet.ALL, "metrics to compute: " + MetricSet.ALL));
        specs.addAll(BatchingOptions.specs());
        specs.add(Options.Spec.value("threads", "N", Integer.toString(Runtime.getRuntime().availableProcessors()),
                "libtorch threads"));
        specs.add(Options.Spec.value("master", "URL", null, "Spark master for reading the sample (default local[*])"));
        specs.add(Options.Spec.value("features", "DIR", null,
                "a feature network (docs/quality.md): rFID and KID per mode with bootstrap intervals"));
        specs.add(Options.Spec.value("bootstrap", "N", "200", "resamples for the rFID and KID intervals"));
        specs.add(Options.Spec.flag("overwrite", "replace what an earlier run wrote to --out (other files stay); without it "
                + "an --out that holds such output is refused"));
        return specs;
    }

    @Override
    public int run(Options o) throws Exception {
        int n = o.getInt("sample", 1, 10_000);
        long seed = o.getLong("seed");
        BatchingOptions batching = BatchingOptions.parse(o);
        SamplingOptions sampling = SamplingOptions.parse(o);
        MetricSet metrics;
        try {
            metrics = MetricSet.parse(o.get("metrics"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Path model = o.directory("model", "model directory");
        List<String> inputs = SparkSupport.resolveInputs(o.get("input"));
        Path out = o.path("out");
        try (OutputGuard guard = OutputGuard.open("audit", out.toAbsolutePath().toUri().toString(), inputs,
                WritePolicy.of(false, o.flag("overwrite")), LAYOUT, HadoopConf.from(new SparkConf()))) {
            return run(o, n, seed, batching, sampling, metrics, model, inputs, out, guard);
        }
    }

    /** audit.html. */
    static final OutputDir.Layout LAYOUT = OutputDir.Layout.of("audit\\.html", "audit.html");

    private int run(Options o, int n, long seed, BatchingOptions batching, SamplingOptions sampling, MetricSet metrics,
            Path model, List<String> inputs, Path out, OutputGuard guard) throws Exception {
        Path featuresDir = null;
        if (o.has("features")) {
            featuresDir = o.directory("features", "feature network directory");
        }
        int rounds = o.getInt("bootstrap", 10, 100_000);
        int threads = o.getInt("threads", 1, 1024);
        if (featuresDir != null) {
            try {
                FeatureNet.Manifest.read(featuresDir); // checked (and checksummed) before anything is sampled or removed
            } catch (ModelFormatException e) {
                throw new UsageException(e.getMessage());
            }
        }
        List<Row> sample;
        SparkSession spark = SparkSupport.session("mipflow audit", o.getOr("master", null));
        try {
            sample = sample(spark, inputs, n, seed,
                    LatentColumns.DEFAULT.forLatent(org.mipflow.model.DecoderFacts.read(model).latent()));
        } finally {
            spark.stop();
        }
        if (sample.isEmpty()) {
            throw new UsageException("no row of " + inputs + " has a reference image to audit against");
        }
        MipflowModel.configureThreads(threads);
        List<AuditData.Speed> speeds = new ArrayList<>();
        Map<String, byte[]> originals = new LinkedHashMap<>();
        Map<String, Map<String, AuditData.Decoded>> decoded = new LinkedHashMap<>();
        List<LatentRow> rows = new ArrayList<>();
        List<AuditData.DatasetFigures> figures = new ArrayList<>();
        FeatureNet net = null;
        try (DecoderModel m = Models.load(model)) {
            if (featuresDir != null) {
                try {
                    net = FeatureNet.load(featuresDir, ai.djl.Device.cpu());
                } catch (ModelFormatException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            for (Row r : sample) {
                try {
                    rows.add(LatentRows.parse(r, LatentColumns.DEFAULT.forLatent(m.latent()), RowLimits.DEFAULT,
                            m.latent()));
                } catch (LatentRows.BadRow e) {
                    throw new UsageException("sampled row " + r.getAs(DecodeSchemas.ID) + ": " + e.getMessage());
                }
                originals.put(r.getAs(DecodeSchemas.ID), r.getAs(DecodeSchemas.REFERENCE));
            }
            int k = m.schedule().stages();
            for (var e : sampling.everyMode(k, m.hasStudent()).entrySet()) {
                long t0 = System.nanoTime();
                List<DecodedImage> decodedNow = new BatchDecoder(m, new Sampler(m, e.getValue()), seed, metrics,
                        batching.rule(m)).withFeatures(net).decodeAll(rows);
                double seconds = (System.nanoTime() - t0) / 1e9;
                if (net != null) {
                    figures.add(figures(e.getKey(), decodedNow, net, rounds, seed));
                }
                speeds.add(new AuditData.Speed(e.getKey(), rows.size() / seconds, e.getValue().forwardPasses(k), seconds));
                System.out.printf(Locale.ROOT, "audit: %-10s %d images in %.1f s%n", e.getKey(), rows.size(), seconds);
                for (int i = 0; i < decodedNow.size(); i++) {
                    DecodedImage d = decodedNow.get(i);
                    if (!d.ok()) {
                        System.out.println("audit: " + d.id() + " failed in " + e.getKey() + ": " + d.error());
                        continue;
                    }
                    decoded.computeIfAbsent(d.id(), x -> new LinkedHashMap<>())
                            .put(e.getKey(), new AuditData.Decoded(d.png(), d.metrics()));
                }
            }
        } finally {
            if (net != null) {
                net.close();
            }
        }
        List<AuditData.Image> images = new ArrayList<>();
        originals.forEach((id, png) -> images.add(new AuditData.Image(id, png, decoded.getOrDefault(id, Map.of()))));
        AuditData data = new AuditData(new AuditData.Run(model.toString(), seed, n, String.join(",", inputs),
                Instant.now()), speeds, images, figures);
        // Everything read, loaded and decoded: only now may --overwrite remove the earlier report.
        guard.planIsValid();
        Files.createDirectories(out);
        AuditReport.write(data, out.resolve("audit.html"));
        System.out.println("report: " + out.resolve("audit.html"));
        return 0;
    }

    /**
     * rFID and KID of one mode's decodes against their references, each with a percentile
     * bootstrap interval over the images; null with the reason when features are missing or bad.
     */
    static AuditData.DatasetFigures figures(String mode, List<DecodedImage> out, FeatureNet net, int rounds, long seed) {
        String sha = net.manifest().sha256();
        // validates each row's features as the decode job does (shape, finite values)
        FeatureStats check = new FeatureStats(net.manifest().featureDim(), 2, seed);
        List<float[]> ref = new ArrayList<>();
        List<float[]> dec = new ArrayList<>();
        for (DecodedImage d : out) {
            if (!d.ok()) {
                continue;
            }
            if (d.features() == null || d.features().error() != null) {
                check.reject("row " + d.id() + ": " + (d.features() == null ? "no features" : d.features().error()));
                continue;
            }
            check.add(d.id(), d.features().decoded(), d.features().reference());
            ref.add(d.features().reference());
            dec.add(d.features().decoded());
        }
        String problem = check.problem() != null ? check.problemRows() + " row(s) without usable features, first: "
                + check.problem() : check.count() < 2 ? "rFID and KID need at least 2 decoded images; have "
                + check.count() : null;
        if (problem != null) {
            System.out.println("audit: " + mode + ": no rFID/KID: " + problem);
            return new AuditData.DatasetFigures(mode, ref.size(), null, null, sha, problem);
        }
        SampleDistances s = new SampleDistances(ref.toArray(float[][]::new), dec.toArray(float[][]::new));
        AuditStats.Interval rfid = AuditStats.bootstrap(s.size(), rounds, seed, s::rfid);
        AuditStats.Interval kid = AuditStats.bootstrap(s.size(), rounds, seed + 1, s::kid);
        System.out.printf(Locale.ROOT, "audit: %-10s rFID %.4f [%.4f, %.4f], KID %.5f [%.5f, %.5f] over %d images%n",
                mode, rfid.mean(), rfid.low(), rfid.high(), kid.mean(), kid.low(), kid.high(), s.size());
        return new AuditData.DatasetFigures(mode, s.size(), rfid, kid, sha, null);
    }

    /** N rows with a reference, chosen by a seeded hash of the id: the same sample for the same seed. */
    static List<Row> sample(SparkSession spark, List<String> inputs, int n, long seed, LatentColumns cols)
            throws UsageException {
        Dataset<Row> df = spark.read().parquet(inputs.toArray(String[]::new));
        String problem = DecodeSchemas.problems(df.schema(), cols);
        if (problem != null) {
            throw new UsageException(problem);
        }
        if (!java.util.Arrays.asList(df.columns()).contains(DecodeSchemas.REFERENCE)) {
            throw new UsageException("the input has no reference column: an audit scores decodes against the originals");
        }
        return df.filter(col(DecodeSchemas.REFERENCE).isNotNull())
                .orderBy(xxhash64(col(DecodeSchemas.ID), lit(seed)), col(DecodeSchemas.ID))
                .limit(n)
                .collectAsList();
    }
}
