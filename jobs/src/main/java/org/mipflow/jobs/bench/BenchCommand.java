package org.mipflow.jobs.bench;

import ai.djl.Device;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.LatentRow;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.BatchingOptions;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.PhotoOptions;
import org.mipflow.jobs.cli.SamplingOptions;
import org.mipflow.jobs.cli.SparkSupport;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.eval.DevImages;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.Bf16Support;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.FeatureNet;
import org.mipflow.model.ModelFormatException;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.NumericPath;
import org.mipflow.model.TorchScriptManifest;
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.DecodedImage;
import org.mipflow.sampling.ImageSampler;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.sampling.TeacherOnePass;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.EncodePartition;

/**
 * {@code mipflow bench}: every mode on the same images and seeds in one run, rounds interleaved
 * so that machine noise hits all modes alike; then the Spark decode of the same latents. Every
 * mode runs through the decode loop that {@code decode} runs ({@link BatchDecoder}: sampling, PNG,
 * PSNR/SSIM), so its numbers are the decoder's, not a copy's.
 */
public final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "Native models: benchmarks full (the baseline), multiscale, onestep and one plain full-resolution forward pass\n"
                + "(the cost floor) on the same dev images and seeds, each through decode's loop (sampling, PNG,\n"
                + "PSNR/SSIM), interleaved over --rounds; prints\n"
                + "images/s, ms/image, forward passes, peak RSS, PSNR/SSIM against the originals and against\n"
                + "full, speedup over full; then forward and onestep per precision/layout (--numerics) with\n"
                + "speedup, PSNR/SSIM change against fp32/nchw and a run-to-run byte check; then the Spark decode\n"
                + "against the same loop outside Spark on the same --spark-rows rows, alternated. TorchScript models\n"
                + "(--model with format torchscript): Mipflow's images/s per mode next to the plain PyTorch loop\n"
                + "(scripts/torch/bench_loop.py, same threads and batch), interleaved. Writes bench.md/json.";
    }

    @Override
    public List<Options.Spec> options() {
        List<Options.Spec> specs = new ArrayList<>(DevImages.options());
        specs.add(Options.Spec.value("images", "N", "6", "how many photos of the list"));
        specs.add(Options.Spec.value("rounds", "N", "2", "interleaved rounds; the median time is reported"));
        specs.addAll(BatchingOptions.specs());
        specs.add(Options.Spec.value("numerics", "LIST", DEFAULT_NUMERICS,
                "precision/layout paths benchmarked next to fp32/nchw (the native network, always run)"));
        specs.add(Options.Spec.value("sweep", "LIST", "1,auto", "rows per network call compared side by side for the "
                + "default mode in the default numerics (1 is one row per call, what every device did before "
                + "--rows-per-call existed; auto is this machine's default)"));
        specs.add(Options.Spec.value("sweep-numerics", "P/L", "auto", "the precision/layout the sweep runs in; auto: what "
                + "--precision auto --layout auto picks on this CPU"));
        specs.add(Options.Spec.value("sweep-rows", "N", "48", "rows each swept value decodes: the dev latents repeated "
                + "under new ids (a multiple of every value, so that no value pays for padding the others do not)"));
        specs.add(Options.Spec.flag("sweep-only", "only the rows-per-call comparison (no mode, numerics or Spark table)"));
        specs.add(Options.Spec.value("device", "D", "cpu", "cpu or gpu (the first CUDA device; needs the -Pgpu build): "
                + "where the modes and the sweep run (the Spark decode runs where its tasks are placed)"));
        specs.add(Options.Spec.flag("no-spark", "skip the Spark decode"));
        specs.add(Options.Spec.flag("spark-only", "only the Spark decode against the same loop outside Spark (no mode table)"));
        specs.add(Options.Spec.value("spark-rows", "N", "60", "rows the Spark decode runs on (the dev latents repeated)"));
        specs.add(Options.Spec.value("out", "DIR", "out/bench", "where bench.md and bench.json go"));
        specs.add(Options.Spec.value("features", "DIR", null, "a feature network (decode --features): the fastest mode "
                + "also runs with it, to show its cost per image"));
        specs.add(Options.Spec.flag("overwrite", "replace what an earlier run wrote to --out (other files stay); without it "
                + "an --out that holds such output is refused"));
        specs.add(Options.Spec.value("pytorch-batch", "N", "same",
                "TorchScript models: the plain PyTorch loop's batch (every call carries the whole batch); same: "
                        + "Mipflow's rows per call; sweep: the loop's own fastest of 1, 2, 4, 8, 16 and Mipflow's"));
        specs.add(Options.Spec.value("python", "FILE", "scripts/torch/python26",
                "TorchScript models: the Python that runs the plain PyTorch loop next to Mipflow (python26: "
                        + "Debian trixie's torch 2.6; python: bookworm's 1.13)"));
        return specs;
    }

    /**
     * One benchmarked combination: a sampling mode (cfg null = one plain forward pass) on the model
     * loaded in one numeric path, with each round's images kept to check that rounds repeat exactly.
     */
    private record ModeRun(String mode, NumericPath numerics, SamplerConfig cfg, int passes, Batching.Plan plan,
            List<Double> seconds, long[] peakMb, List<List<DecodedImage>> outs, boolean features, String tag) {
        String name() {
            return (numerics.isNative() ? mode : mode + " " + numerics.label()) + (features ? " +features" : "")
                    + (tag == null ? "" : " " + tag);
        }

        List<DecodedImage> out() {
            return outs.get(outs.size() - 1);
        }

        /** Every round's PNG bytes equal to the first round's. */
        boolean repeats() {
            List<DecodedImage> first = outs.get(0);
            for (List<DecodedImage> o : outs) {
                for (int i = 0; i < o.size(); i++) {
                    if (!Arrays.equals(first.get(i).png(), o.get(i).png())) {
                        return false;
                    }
                }
            }
            return true;
        }

        ImageSampler sampler(MipflowModel model) {
            return cfg == null ? new TeacherOnePass(model) : new Sampler(model, cfg);
        }
    }

    static final String DEFAULT_NUMERICS = "fp32/nhwc,bf16/nhwc";

    @Override
    public int run(Options o) throws Exception {
        List<NumericPath> paths = numerics(o.get("numerics"));
        try (OutputGuard guard = OutputGuard.openLocal("bench", o.path("out"), List.of(o.path("photos")),
                WritePolicy.of(false, o.flag("overwrite")), LAYOUT)) {
            return run(o, paths, guard);
        }
    }

    /** bench.md, bench.json, and the Spark comparison's latents and decode output. */
    static final OutputDir.Layout LAYOUT = OutputDir.Layout.of("bench\\.md|bench\\.json|latents|spark-decode",
            "bench.md, bench.json, latents/, spark-decode/");

    private int run(Options o, List<NumericPath> paths, OutputGuard guard) throws Exception {
        if (TorchScriptManifest.FORMAT.equals(DecoderFacts.read(o.path("model")).format())) {
            return TorchScriptBench.run(o, o.path("model"), guard);
        }
        int size = o.getInt("size", 32, 4096);
        int threads = o.getInt("threads", 1, 1024);
        BatchingOptions batching = BatchingOptions.parse(o);
        SamplingOptions sampling = SamplingOptions.parse(o);
        int rounds = o.getInt("rounds", 1, 100);
        DevImages dev = DevImages.load(PhotoOptions.parse(o), size, o.getInt("images", 1, 10_000));
        Path outDir = o.path("out");
        o.getInt("spark-rows", 1, 1_000_000); // read again by the Spark row; a bad value must stop the run here
        MipflowModel.configureThreads(threads);
        Device device = device(o.get("device"));
        int n = dev.count();
        Map<String, ModeRun> runs = new LinkedHashMap<>();
        Map<NumericPath, MipflowModel> models = new LinkedHashMap<>();
        List<LatentRow> rows;
        List<LatentRow> sweepRows = List.of();
        FeatureNet net = null;
        try {
            if (o.has("features")) {
                try {
                    net = FeatureNet.load(o.path("features"), device);
                } catch (ModelFormatException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            boolean sparkOnly = o.flag("spark-only");
            boolean sweepOnly = o.flag("sweep-only");
            // the native model encodes the dev photos; the other paths only for the tables that compare them
            List<NumericPath> compared = sparkOnly || sweepOnly ? List.of(NumericPath.NATIVE) : paths;
            for (NumericPath p : compared) {
                loaded(models, p, o.path("model"), device);
            }
            MipflowModel base = models.get(NumericPath.NATIVE);
            int k = base.schedule().stages();
            int zs = size / base.downsample();
            rows = dev.rows(base.encode(dev.batch(), n, size, size), base.latentChannels(), zs, i -> "bench-" + i);
            sweepRows = repeated(rows, o.getInt("sweep-rows", 1, 100_000));
            Map<String, SamplerConfig> modes = sampling.everyMode(k, base.hasStudent());
            String fastest = SamplingMode.auto(base.hasStudent()).label();
            for (NumericPath p : sweepOnly ? List.<NumericPath>of() : compared) {
                Batching.Plan batch = batching.plan(models.get(p), size, size);
                for (var mode : modes.entrySet()) {
                    // Other numeric paths are compared on the modes whose speed matters: onestep and forward.
                    if (sparkOnly ? mode.getKey().equals(fastest)
                            : p.isNative() || mode.getKey().equals(SamplingMode.ONESTEP.label())) {
                        add(runs, mode.getKey(), p, mode.getValue(), k, batch);
                    }
                }
                if (!sparkOnly) {
                    add(runs, "forward", p, null, k, batch);
                }
                if (!sparkOnly && net != null && p.isNative()) {
                    add(runs, fastest, p, modes.get(fastest), k, batch, true, null);
                }
            }
            List<NumericPath> asked = numerics(o.get("sweep-numerics").equals("auto") ? "" : o.get("sweep-numerics"));
            NumericPath defaults = o.get("sweep-numerics").equals("auto")
                    ? NumericPath.Request.AUTO.resolve(Bf16Support.of(device).supported()) : asked.get(asked.size() - 1);
            if (!sparkOnly) {
                Batching.Plan auto = batching.plan(loaded(models, defaults, o.path("model"), device), size, size);
                for (int b : sweep(o.get("sweep"), auto.callRows())) {
                    add(runs, fastest, defaults, modes.get(fastest), k,
                            new Batching.Plan(batching.batching().taskRows() > 0 ? auto.taskRows() : b, b), false,
                            "B=" + b + (b == auto.callRows() ? " (auto)" : ""));
                }
                // Until issue 24 a CPU without native bf16 decoded in fp32/nchw, one row per call.
                NumericPath before = defaults.precision() == NumericPath.Precision.BF16 ? defaults : NumericPath.NATIVE;
                if (!before.equals(defaults) && o.get("sweep-numerics").equals("auto")) {
                    loaded(models, before, o.path("model"), device);
                    add(runs, fastest, before, modes.get(fastest), k, new Batching.Plan(1, 1), false,
                            "B=1 (one row per call)");
                }
            }
            List<String> order = new ArrayList<>(runs.keySet());
            for (int r = 0; r < (sparkOnly ? 0 : rounds); r++) {
                for (int i = 0; i < order.size(); i++) {
                    ModeRun m = runs.get(order.get((i + r) % order.size()));
                    long t0 = System.nanoTime();
                    List<DecodedImage> img;
                    try (RssSampler rss = new RssSampler()) {
                        img = decodeAll(models.get(m.numerics()), m, m.tag() == null ? rows : sweepRows, net);
                        m.peakMb()[0] = Math.max(m.peakMb()[0], rss.peakMb());
                    }
                    m.seconds().add((System.nanoTime() - t0) / 1e9);
                    m.outs().add(img);
                    System.out.printf(Locale.ROOT, "round %d %-22s %.2f s%n", r + 1, m.name(), m.seconds().get(r));
                }
            }
        } finally {
            models.values().forEach(MipflowModel::close);
            if (net != null) {
                net.close();
            }
        }
        // Every option parsed, the models and the feature network loaded, the decodes done: only now
        // may --overwrite remove the earlier run's files.
        guard.planIsValid();
        Files.createDirectories(outDir);
        JsonObject json = new JsonObject();
        json.addProperty("images", n);
        json.addProperty("size", size);
        json.addProperty("threads", threads);
        json.addProperty("batching", batching.describe());
        json.addProperty("rounds", rounds);
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "# bench: %d images at %dx%d, %d libtorch threads, %d rounds (median), "
                + "%s; each mode through the decode loop (sampling, PNG, PSNR/SSIM)%n%n", n, size, size, threads,
                rounds, batching.describe()));
        if (!o.flag("spark-only") && !o.flag("sweep-only")) {
            md.append(modesTable(runs, dev, json));
            md.append(numericsTable(runs, dev, json));
            md.append(featureCost(runs, dev, json));
        }
        if (!o.flag("spark-only")) {
            md.append(sweepTable(runs, sweepRows.size(), json));
        }
        if (!o.flag("no-spark") && !o.flag("sweep-only")) {
            sparkRow(o, runs, rows, size, batching, threads, outDir, md, json);
        }
        Files.writeString(outDir.resolve("bench.md"), md.toString());
        Files.writeString(outDir.resolve("bench.json"), new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n");
        System.out.print(md);
        System.out.println("written: " + outDir.resolve("bench.md") + ", " + outDir.resolve("bench.json"));
        return 0;
    }

    /** The model in numeric path {@code p}, loaded once (the caller closes every model in the map). */
    private static MipflowModel loaded(Map<NumericPath, MipflowModel> models, NumericPath p, Path dir, Device device) {
        MipflowModel m = models.get(p);
        if (m == null) {
            m = MipflowModel.load(dir, device, p);
            models.put(p, m);
        }
        return m;
    }

    /** "cpu", or "gpu" when libtorch sees a CUDA device. */
    static Device device(String name) throws UsageException {
        if (name.equals("cpu")) {
            return Device.cpu();
        }
        if (!name.equals("gpu")) {
            throw new UsageException("--device is cpu or gpu, not '" + name + "'");
        }
        if (ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount() == 0) {
            throw new UsageException("--device gpu: libtorch sees no CUDA device (build with -Pgpu on a machine with one)");
        }
        return Device.gpu();
    }

    /** {@code rows} repeated under new ids up to {@code n} rows. */
    static List<LatentRow> repeated(List<LatentRow> rows, int n) {
        List<LatentRow> out = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            LatentRow d = rows.get(r % rows.size());
            out.add(new LatentRow("bench-" + r, d.latent(), d.channels(), d.height(), d.width(), d.reference()));
        }
        return out;
    }

    /** "1,2,auto": the rows-per-call values to compare, auto replaced by {@code auto}, in order, once each. */
    static List<Integer> sweep(String spec, int auto) throws UsageException {
        java.util.LinkedHashSet<Integer> out = new java.util.LinkedHashSet<>();
        for (String item : spec.split(",")) {
            String v = item.trim();
            if (v.isEmpty()) {
                continue;
            }
            try {
                int b = v.equals("auto") ? auto : Integer.parseInt(v);
                if (b < 1 || b > 4096) {
                    throw new NumberFormatException();
                }
                out.add(b);
            } catch (NumberFormatException e) {
                throw new UsageException("--sweep takes rows-per-call values 1..4096 or auto, not '" + v + "'");
            }
        }
        return new ArrayList<>(out);
    }

    /**
     * The default mode and numerics at each swept rows-per-call value, interleaved in the same
     * rounds: images/s against the first value (1: one row per call, as before issue 24), how far
     * the 8-bit images are from that value's, and whether each value repeated its bytes.
     */
    private static String sweepTable(Map<String, ModeRun> runs, int n, JsonObject json) {
        List<ModeRun> sweep = runs.values().stream().filter(m -> m.tag() != null).toList();
        if (sweep.isEmpty()) {
            return "";
        }
        ModeRun first = sweep.get(0);
        double firstIps = n / Measurements.median(first.seconds());
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "%nRows per network call (%s, %s, %d rows: "
                + "the dev latents repeated; task batch = B unless --batch-size is set; every round listed, "
                + "images/s):%n%n", first.mode(), first.numerics().label(), n));
        md.append("| rows per call | numerics | task rows | images/s | vs " + first.plan().callRows() + " row(s) per "
                + "call | per round | PSNR vs " + first.plan().callRows() + " row(s) per call | same bytes every round |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        JsonArray rows = new JsonArray();
        for (ModeRun m : sweep) {
            double ips = n / Measurements.median(m.seconds());
            double[] vsFirst = scores(m.out(), first.out());
            md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.2fx | %s | %s | %s |%n", m.tag().substring(2),
                    m.numerics().label(), m.plan().taskRows(), ips, ips / firstIps,
                    String.join(", ", m.seconds().stream().map(s -> String.format(Locale.ROOT, "%.3f", n / s)).toList()),
                    m == first ? "-" : vsFirst[0] >= 100 ? "identical" : String.format(Locale.ROOT, "%.2f dB", vsFirst[0]),
                    m.outs().size() < 2 ? "(1 round)" : m.repeats() ? "yes" : "NO"));
            JsonObject j = runJson(m, ips, scores(m.out(), null));
            j.addProperty("speedup_vs_first", ips / firstIps);
            j.addProperty("psnr_vs_first", vsFirst[0]);
            j.addProperty("repeats_every_round", m.repeats());
            rows.add(j);
        }
        json.add("rows_per_call", rows);
        return md.toString();
    }

    /** "fp32/nchw,bf16/nhwc": the native path always comes first (the reference of every delta). */
    static List<NumericPath> numerics(String spec) throws UsageException {
        List<NumericPath> out = new ArrayList<>(List.of(NumericPath.NATIVE));
        for (String item : spec.split(",")) {
            String[] pl = item.trim().split("/");
            if (item.isBlank()) {
                continue;
            }
            if (pl.length != 2 || pl[0].equals("auto") || pl[1].equals("auto")) {
                throw new UsageException("--numerics takes PRECISION/LAYOUT items such as bf16/nhwc, not '" + item + "'");
            }
            NumericPath p;
            try {
                p = new NumericPath.Request(pl[0], pl[1]).resolve(false);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--numerics: " + e.getMessage());
            }
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    /** The native model's modes side by side (the table earlier stops printed). */
    private static String modesTable(Map<String, ModeRun> runs, DevImages dev, JsonObject json) {
        int n = dev.count();
        String baseline = SamplingMode.FULL.label();
        double fullIps = n / Measurements.median(runs.get(baseline).seconds());
        List<DecodedImage> fullOut = runs.get(baseline).out();
        StringBuilder md = new StringBuilder();
        md.append("| mode | images/s | ms/image | forward passes | rows per call | peak RSS MB | PSNR | SSIM | PSNR vs full "
                + "| SSIM vs full | speedup vs full |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        JsonArray modes = new JsonArray();
        for (ModeRun m : runs.values()) {
            if (!m.numerics().isNative() || m.tag() != null) {
                continue;
            }
            double ips = n / Measurements.median(m.seconds());
            double[] orig = scores(m.out(), null);
            double[] vsFull = scores(m.out(), fullOut);
            boolean full = m.mode().equals(baseline);
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.0f | %d | %d | %d | %.3f | %.4f | %s | %s | %.1fx |%n",
                    m.name(), ips, 1000 / ips, m.passes(), m.plan().callRows(), m.peakMb()[0], orig[0], orig[1],
                    full ? "-" : String.format(Locale.ROOT, "%.3f", vsFull[0]),
                    full ? "-" : String.format(Locale.ROOT, "%.4f", vsFull[1]), ips / fullIps));
            JsonObject j = runJson(m, ips, orig);
            j.addProperty("psnr_vs_full", vsFull[0]);
            j.addProperty("ssim_vs_full", vsFull[1]);
            j.addProperty("speedup_vs_full", ips / fullIps);
            modes.add(j);
        }
        json.add("modes", modes);
        return md.toString();
    }

    /**
     * Each numeric path's forward pass and one-step decode against the same mode in fp32/nchw: speed,
     * the change of PSNR/SSIM against the originals, how close the images are to the fp32 ones, and
     * whether the 8-bit output repeated exactly over the rounds.
     */
    private static String numericsTable(Map<String, ModeRun> runs, DevImages dev, JsonObject json) {
        int n = dev.count();
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "%nPrecision and layout (same weights; deltas "
                + "against the same mode in fp32/nchw):%n%n"));
        md.append("| mode | numerics | rows per call | images/s | speedup | peak RSS MB | PSNR | SSIM | PSNR change | SSIM change "
                + "| PSNR vs fp32 output | same bytes every round |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        JsonArray rows = new JsonArray();
        for (String mode : List.of("forward", SamplingMode.ONESTEP.label())) {
            ModeRun ref = runs.get(mode);
            if (ref == null) {
                continue;
            }
            double refIps = n / Measurements.median(ref.seconds());
            double[] refScores = scores(ref.out(), null);
            for (ModeRun m : runs.values()) {
                if (!m.mode().equals(mode) || m.features() || m.tag() != null) {
                    continue;
                }
                double ips = n / Measurements.median(m.seconds());
                double[] orig = scores(m.out(), null);
                double[] vsRef = scores(m.out(), ref.out());
                boolean isRef = m == ref;
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.2fx | %d | %.3f | %.4f | %s | %s | %s | %s |%n",
                        mode, m.numerics().label(), m.plan().callRows(), ips, ips / refIps, m.peakMb()[0], orig[0], orig[1],
                        isRef ? "-" : String.format(Locale.ROOT, "%+.4f dB", orig[0] - refScores[0]),
                        isRef ? "-" : String.format(Locale.ROOT, "%+.5f", orig[1] - refScores[1]),
                        isRef ? "-" : String.format(Locale.ROOT, "%.2f dB", vsRef[0]),
                        m.outs().size() < 2 ? "(1 round)" : m.repeats() ? "yes" : "NO"));
                JsonObject j = runJson(m, ips, orig);
                j.addProperty("speedup_vs_fp32_nchw", ips / refIps);
                j.addProperty("psnr_change", orig[0] - refScores[0]);
                j.addProperty("ssim_change", orig[1] - refScores[1]);
                j.addProperty("psnr_vs_fp32_output", vsRef[0]);
                j.addProperty("repeats_every_round", m.repeats());
                rows.add(j);
            }
        }
        json.add("numerics", rows);
        return md.toString();
    }

    private static JsonObject runJson(ModeRun m, double ips, double[] orig) {
        JsonObject j = new JsonObject();
        j.addProperty("mode", m.mode());
        j.addProperty("numerics", m.numerics().label());
        j.addProperty("rows_per_call", m.plan().callRows());
        j.addProperty("task_rows", m.plan().taskRows());
        j.addProperty("images_per_second", ips);
        j.addProperty("ms_per_image", 1000 / ips);
        j.addProperty("forward_passes", m.passes());
        j.addProperty("peak_rss_mb", m.peakMb()[0]);
        j.addProperty("psnr", orig[0]);
        j.addProperty("ssim", orig[1]);
        j.add("seconds", new GsonBuilder().create().toJsonTree(m.seconds()));
        return j;
    }

    /**
     * The Spark decode with the numerics "auto" picks on this machine against the same decode loop
     * outside Spark, on the same rows (the dev latents repeated under new ids, enough that the wave's
     * jobs and commit weigh what they weigh in a real run), alternated over --rounds so that machine
     * noise hits both alike; medians compared.
     */
    private static void sparkRow(Options o, Map<String, ModeRun> runs, List<LatentRow> dev, int size,
            BatchingOptions batching, int threads, Path outDir, StringBuilder md, JsonObject json) throws Exception {
        NumericPath auto = NumericPath.Request.AUTO.resolve(Bf16Support.of(Device.cpu()).supported());
        String mode = SamplingMode.auto(runs.containsKey(SamplingMode.ONESTEP.label())).label();
        SamplerConfig cfg = runs.get(mode).cfg();
        int n = o.getInt("spark-rows", 1, 1_000_000);
        int rounds = o.getInt("rounds", 1, 100);
        List<LatentRow> rows = repeated(dev, n);
        List<Double> raw = new ArrayList<>();
        List<Double> spark = new ArrayList<>();
        // The Spark decode as `decode` runs by default (local[*]: a task per core, libtorch threads
        // per task from the slots); the loop outside Spark in its best setting (one stream, --threads).
        // One JVM, so libtorch's global thread count is switched as the two alternate.
        SparkSession session = SparkSupport.session("mipflow bench", null);
        int sparkThreads = SparkSupport.intraOpThreads(session);
        String master = session.sparkContext().master();
        try (MipflowModel model = MipflowModel.load(o.path("model"), Device.cpu(), auto)) {
            String latents = writeLatents(session, rows, size, outDir);
            DecodeSettings s = new DecodeSettings(o.path("model").toAbsolutePath().toString(), cfg,
                    batching.batching(), 0, sparkThreads, null, RowLimits.DEFAULT, null, MetricSet.DEFAULT,
                    NumericPath.Request.AUTO);
            ModeRun rawRun = new ModeRun(mode, auto, cfg, 0, batching.plan(model, size, size), new ArrayList<>(),
                    new long[1], new ArrayList<>(), false, null);
            String out = outDir.resolve("spark-decode").toString();
            MipflowModel.setThreads(sparkThreads);
            // The rounds decode into one directory: each replaces the last.
            DecodeJob.run(session, List.of(latents), out, s, WritePolicy.OVERWRITE); // model load and JIT warm-up
            MipflowModel.setThreads(threads);
            decodeAll(model, rawRun, rows, null);
            for (int r = 0; r < rounds; r++) {
                MipflowModel.setThreads(threads);
                long t0 = System.nanoTime();
                decodeAll(model, rawRun, rows, null);
                raw.add(n / ((System.nanoTime() - t0) / 1e9));
                MipflowModel.setThreads(sparkThreads);
                spark.add(DecodeJob.run(session, List.of(latents), out, s, WritePolicy.OVERWRITE).imagesPerSecond());
                System.out.printf(Locale.ROOT, "round %d outside Spark %.3f images/s, Spark %.3f images/s%n", r + 1,
                        raw.get(r), spark.get(r));
            }
        } finally {
            session.stop();
        }
        double rawIps = Measurements.median(raw);
        double sparkIps = Measurements.median(spark);
        StringBuilder perRound = new StringBuilder();
        for (int r = 0; r < raw.size(); r++) {
            perRound.append(String.format(Locale.ROOT, "%s%.0f%%", r == 0 ? "" : ", ", 100 * spark.get(r) / raw.get(r)));
        }
        md.append(String.format(Locale.ROOT, "%nSpark decode (%s, %s, %s with %d libtorch thread(s) per task, %s, "
                + "%d rows, PNG + metrics + Parquet + commit included) against the same decode loop outside Spark (one "
                + "stream, %d threads, PNG + metrics included) on the same rows, alternated over %d rounds (median): "
                + "%.3f vs %.3f images/s = %.0f%% (per round: %s)%n", mode, auto.label(), master, sparkThreads,
                batching.describe(), n, threads, rounds, sparkIps, rawIps, 100 * sparkIps / rawIps, perRound));
        JsonObject j = new JsonObject();
        j.addProperty("mode", mode);
        j.addProperty("numerics", auto.label());
        j.addProperty("rows", n);
        j.addProperty("spark_images_per_second", sparkIps);
        j.addProperty("raw_images_per_second", rawIps);
        j.addProperty("ratio", sparkIps / rawIps);
        j.add("spark_rounds", new GsonBuilder().create().toJsonTree(spark));
        j.add("raw_rounds", new GsonBuilder().create().toJsonTree(raw));
        json.add("spark", j);
    }

    /** The rows, with their reference PNGs, as one Parquet shard of decode's input contract. */
    private static String writeLatents(SparkSession spark, List<LatentRow> rows, int size, Path outDir) {
        List<Row> out = new ArrayList<>();
        for (LatentRow r : rows) {
            out.add(RowFactory.create(r.id(), r.latent(), r.channels(), r.height(), r.width(), png(r.reference(), size),
                    null, null));
        }
        String latents = outDir.resolve("latents").toString();
        spark.createDataFrame(out, EncodePartition.OUTPUT).drop("error", EncodePartition.SOURCE_SIZE).coalesce(1).write()
                .mode("overwrite").parquet(latents);
        return latents;
    }

    private static void add(Map<String, ModeRun> runs, String mode, NumericPath p, SamplerConfig cfg, int k,
            Batching.Plan batch) {
        add(runs, mode, p, cfg, k, batch, false, null);
    }

    private static void add(Map<String, ModeRun> runs, String mode, NumericPath p, SamplerConfig cfg, int k,
            Batching.Plan batch, boolean features, String tag) {
        ModeRun m = new ModeRun(mode, p, cfg, cfg == null ? 1 : cfg.forwardPasses(k), batch, new ArrayList<>(),
                new long[1], new ArrayList<>(), features, tag);
        runs.put(m.name(), m);
    }

    /** The rows through the decode loop, in batches of the run's size, noise from (0, id). */
    private static List<DecodedImage> decodeAll(MipflowModel model, ModeRun m, List<LatentRow> rows, FeatureNet net) {
        return Measurements.allDecoded(new BatchDecoder(model, m.sampler(model), 0, MetricSet.DEFAULT,
                Batching.Rule.fixed(m.plan().taskRows(), m.plan().callRows())).withFeatures(m.features() ? net : null).decodeAll(rows),
                m.name());
    }

    /**
     * What the feature network adds per image (its features of the decoded image and of the
     * reference), from the same mode decoded with and without it in the same interleaved rounds.
     */
    private static String featureCost(Map<String, ModeRun> runs, DevImages dev, JsonObject json) {
        ModeRun with = runs.values().stream().filter(ModeRun::features).findFirst().orElse(null);
        if (with == null) {
            return "";
        }
        ModeRun without = runs.get(with.mode());
        double msWith = 1000 * Measurements.median(with.seconds()) / dev.count();
        double msWithout = 1000 * Measurements.median(without.seconds()) / dev.count();
        JsonObject j = new JsonObject();
        j.addProperty("mode", with.mode());
        j.addProperty("ms_per_image_without", msWithout);
        j.addProperty("ms_per_image_with", msWith);
        j.addProperty("feature_ms_per_image", msWith - msWithout);
        json.add("features", j);
        return String.format(Locale.ROOT, "%nFeature network (rFID/KID): %s %.0f ms/image with it, %.0f without: "
                + "%+.0f ms per image (two calls: the decoded image and its reference; %.0f%%)%n", with.mode(), msWith,
                msWithout, msWith - msWithout, 100 * (msWith - msWithout) / msWithout);
    }

    /**
     * Mean PSNR (capped at 100 dB, for identical images) and SSIM of the images against the
     * originals (against == null: the loop's own scores) or against another run's images.
     */
    private static double[] scores(List<DecodedImage> images, List<DecodedImage> against) {
        double p = 0;
        double s = 0;
        for (int i = 0; i < images.size(); i++) {
            DecodedImage d = images.get(i);
            Map<String, Double> m = against == null ? d.metrics()
                    : MetricSet.DEFAULT.score(pixels(d), 0, pixels(against.get(i)), d.height(), d.width());
            p += Math.min(m.get("psnr"), 100);
            s += m.get("ssim");
        }
        return new double[] {p / images.size(), s / images.size()};
    }

    private static float[] pixels(DecodedImage d) {
        try {
            return ImageOps.toPlanar(ImageCodec.read(d.png(), Long.MAX_VALUE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] png(float[] planar, int side) {
        return ImageCodec.png(ImageOps.fromPlanar(planar, 0, side, side));
    }
}
