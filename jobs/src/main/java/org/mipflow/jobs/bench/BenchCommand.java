package org.mipflow.jobs;

import ai.djl.Device;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.ImageMetrics;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.BatchBudget;
import org.mipflow.model.Bf16Support;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.NumericPath;
import org.mipflow.model.TorchScriptManifest;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.EncodePartition;

/**
 * {@code mipflow bench}: every mode on the same images and seeds in one run, rounds interleaved
 * so that machine noise hits all modes alike; then the Spark decode of the same latents.
 */
public final class BenchCommand implements Command {
    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "Native models: benchmarks full (the baseline), multiscale, onestep and one plain full-resolution forward pass\n"
                + "(the cost floor) on the same dev images and seeds, interleaved over --rounds; prints\n"
                + "images/s, ms/image, forward passes, peak RSS, PSNR/SSIM against the originals and against\n"
                + "full, speedup over full; then forward and onestep per precision/layout (--numerics) with\n"
                + "speedup, PSNR/SSIM change against fp32/nchw and a run-to-run byte check; then the Spark decode\n"
                + "against the raw decoder on the same --spark-rows rows, alternated. TorchScript models\n"
                + "(--model with format torchscript): Mipflow's images/s per mode next to the plain PyTorch loop\n"
                + "(scripts/torch/bench_loop.py, same threads and batch), interleaved. Writes bench.md/json.";
    }

    @Override
    public List<Options.Spec> options() {
        List<Options.Spec> specs = new ArrayList<>(DevImages.options());
        specs.add(Options.Spec.value("images", "N", "6", "how many photos of the list"));
        specs.add(Options.Spec.value("rounds", "N", "2", "interleaved rounds; the median time is reported"));
        specs.add(Options.Spec.value("batch-size", "N", "auto",
                "images decoded together; auto: per numeric path, as many as fit --memory-budget"));
        specs.add(Options.Spec.value("memory-budget", "MIB", Long.toString(BatchBudget.CPU_DEFAULT_BYTES >> 20),
                "working set of one forward pass that auto batches stay within"));
        specs.add(Options.Spec.value("numerics", "LIST", "fp32/nhwc,bf16/nhwc",
                "precision/layout paths benchmarked next to fp32/nchw (the native network, always run)"));
        specs.add(Options.Spec.flag("no-spark", "skip the Spark decode"));
        specs.add(Options.Spec.flag("spark-only", "only the Spark decode against the raw decoder (no mode table)"));
        specs.add(Options.Spec.value("spark-rows", "N", "60", "rows the Spark decode runs on (the dev latents repeated)"));
        specs.add(Options.Spec.value("out", "DIR", "out/bench", "where bench.md and bench.json go"));
        specs.add(Options.Spec.value("python", "FILE", "scripts/torch/python",
                "TorchScript models: the Python that runs the plain PyTorch loop next to Mipflow"));
        return specs;
    }

    /**
     * One benchmarked combination: a sampling mode (cfg null = one plain forward pass) on the model
     * loaded in one numeric path, with each round's output kept to check that rounds repeat exactly.
     */
    private record ModeRun(String mode, NumericPath numerics, SamplerConfig cfg, int passes, int batch,
            List<Double> seconds, long[] peakMb, List<float[]> outs) {
        String name() {
            return numerics.isNative() ? mode : mode + " " + numerics.label();
        }

        float[] out() {
            return outs.get(outs.size() - 1);
        }

        /** Every round's 8-bit image equal to the first round's: the PNG bytes repeat run to run. */
        boolean repeats() {
            float[] first = ImageOps.quantize(outs.get(0));
            for (float[] o : outs) {
                if (!Arrays.equals(first, ImageOps.quantize(o))) {
                    return false;
                }
            }
            return true;
        }
    }

    @Override
    public int run(Options o) throws Exception {
        List<NumericPath> paths = numerics(o.get("numerics"));
        if (TorchScriptManifest.FORMAT.equals(DecoderFacts.read(o.path("model")).format())) {
            return TorchScriptBench.run(o, o.path("model"));
        }
        int size = o.getInt("size", 32, 4096);
        int threads = o.getInt("threads", 1, 1024);
        int fixedBatch = DecodeCommand.fixedBatch(o);
        BatchBudget budget = DecodeCommand.budget(o);
        int rounds = o.getInt("rounds", 1, 100);
        DevImages dev = DevImages.load(o.path("photos"), o.path("list"), size, o.getInt("images", 1, 10_000));
        Path outDir = o.path("out");
        Files.createDirectories(outDir);
        MipflowModel.configureThreads(threads);
        int n = dev.count();
        Map<String, ModeRun> runs = new LinkedHashMap<>();
        Map<NumericPath, MipflowModel> models = new LinkedHashMap<>();
        float[] z;
        int zs;
        int per;
        try {
            for (NumericPath p : paths) {
                models.put(p, MipflowModel.load(o.path("model"), Device.cpu(), p));
            }
            MipflowModel base = models.get(NumericPath.NATIVE);
            int k = base.schedule().stages();
            zs = size / base.downsample();
            per = base.latentChannels() * zs * zs;
            z = base.encode(dev.batch(), n, size, size);
            SamplerConfig multi = DecodeCommand.samplerConfig(EvalCommandOptions.of(o, "multiscale"), k);
            SamplerConfig one = new SamplerConfig(SamplingMode.ONESTEP, 1, multi.stageSteps());
            boolean sparkOnly = o.flag("spark-only");
            for (NumericPath p : sparkOnly ? List.of(NumericPath.NATIVE) : paths) {
                int batch = fixedBatch > 0 ? fixedBatch : budget.batchFor(models.get(p).bytesPerImage(size, size));
                if (sparkOnly) {
                    add(runs, base.hasStudent() ? "onestep" : "multiscale", p, base.hasStudent() ? one : multi, k, batch);
                    continue;
                }
                if (p.isNative()) {
                    add(runs, "full", p, DecodeCommand.samplerConfig(EvalCommandOptions.of(o, "full"), k), k, batch);
                    add(runs, "multiscale", p, multi, k, batch);
                }
                if (base.hasStudent()) {
                    add(runs, "onestep", p, one, k, batch);
                }
                add(runs, "forward", p, null, k, batch);
            }
            List<String> order = new ArrayList<>(runs.keySet());
            for (int r = 0; r < (sparkOnly ? 0 : rounds); r++) {
                for (int i = 0; i < order.size(); i++) {
                    ModeRun m = runs.get(order.get((i + r) % order.size()));
                    long t0 = System.nanoTime();
                    float[] img;
                    try (RssSampler rss = new RssSampler()) {
                        img = decodeAll(models.get(m.numerics()), m, z, n, zs, per, size);
                        m.peakMb()[0] = Math.max(m.peakMb()[0], rss.peakMb());
                    }
                    m.seconds().add((System.nanoTime() - t0) / 1e9);
                    m.outs().add(img);
                    System.out.printf(Locale.ROOT, "round %d %-22s %.2f s%n", r + 1, m.name(), m.seconds().get(r));
                }
            }
        } finally {
            models.values().forEach(MipflowModel::close);
        }
        JsonObject json = new JsonObject();
        json.addProperty("images", n);
        json.addProperty("size", size);
        json.addProperty("threads", threads);
        json.addProperty("batch", fixedBatch > 0 ? Integer.toString(fixedBatch) : "auto");
        json.addProperty("memory_budget_bytes", budget.bytes());
        json.addProperty("rounds", rounds);
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "# bench: %d images at %dx%d, %d libtorch threads, %d rounds (median), "
                + "batch %s%n%n", n, size, size, threads, rounds,
                fixedBatch > 0 ? Integer.toString(fixedBatch) : "auto (" + (budget.bytes() >> 20) + " MiB working set)"));
        if (!o.flag("spark-only")) {
            md.append(modesTable(runs, dev, size, json));
            md.append(numericsTable(runs, dev, size, json));
        }
        if (!o.flag("no-spark")) {
            sparkRow(o, runs, dev, z, zs, per, fixedBatch, budget, threads, outDir, md, json);
        }
        Files.writeString(outDir.resolve("bench.md"), md.toString());
        Files.writeString(outDir.resolve("bench.json"), new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n");
        System.out.print(md);
        System.out.println("written: " + outDir.resolve("bench.md") + ", " + outDir.resolve("bench.json"));
        return 0;
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
    private static String modesTable(Map<String, ModeRun> runs, DevImages dev, int size, JsonObject json) {
        int n = dev.count();
        double fullIps = n / median(runs.get("full").seconds());
        float[] fullOut = runs.get("full").out();
        StringBuilder md = new StringBuilder();
        md.append("| mode | images/s | ms/image | forward passes | batch | peak RSS MB | PSNR | SSIM | PSNR vs full "
                + "| SSIM vs full | speedup vs full |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        JsonArray modes = new JsonArray();
        for (ModeRun m : runs.values()) {
            if (!m.numerics().isNative()) {
                continue;
            }
            double ips = n / median(m.seconds());
            double[] orig = scores(m.out(), dev, size, null);
            double[] vsFull = scores(m.out(), dev, size, fullOut);
            boolean full = m.mode().equals("full");
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.0f | %d | %d | %d | %.3f | %.4f | %s | %s | %.1fx |%n",
                    m.name(), ips, 1000 / ips, m.passes(), m.batch(), m.peakMb()[0], orig[0], orig[1],
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
    private static String numericsTable(Map<String, ModeRun> runs, DevImages dev, int size, JsonObject json) {
        int n = dev.count();
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "%nPrecision and layout (same weights; deltas "
                + "against the same mode in fp32/nchw):%n%n"));
        md.append("| mode | numerics | batch | images/s | speedup | peak RSS MB | PSNR | SSIM | PSNR change | SSIM change "
                + "| PSNR vs fp32 output | same bytes every round |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        JsonArray rows = new JsonArray();
        for (String mode : List.of("forward", "onestep")) {
            ModeRun ref = runs.get(mode);
            if (ref == null) {
                continue;
            }
            double refIps = n / median(ref.seconds());
            double[] refScores = scores(ref.out(), dev, size, null);
            for (ModeRun m : runs.values()) {
                if (!m.mode().equals(mode)) {
                    continue;
                }
                double ips = n / median(m.seconds());
                double[] orig = scores(m.out(), dev, size, null);
                double[] vsRef = scores(m.out(), dev, size, ref.out());
                boolean isRef = m == ref;
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.3f | %.2fx | %d | %.3f | %.4f | %s | %s | %s | %s |%n",
                        mode, m.numerics().label(), m.batch(), ips, ips / refIps, m.peakMb()[0], orig[0], orig[1],
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
        j.addProperty("batch", m.batch());
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
     * The Spark decode with the numerics "auto" picks on this machine against the raw decoder in the
     * same path, on the same rows (the dev latents repeated under new ids, enough that the wave's
     * jobs and commit weigh what they weigh in a real run), alternated over --rounds so that machine
     * noise hits both alike; medians compared.
     */
    private static void sparkRow(Options o, Map<String, ModeRun> runs, DevImages dev, float[] z, int zs, int per,
            int fixedBatch, BatchBudget budget, int threads, Path outDir, StringBuilder md, JsonObject json)
            throws Exception {
        NumericPath auto = NumericPath.Request.AUTO.resolve(Bf16Support.of(Device.cpu()).supported());
        String mode = runs.containsKey("onestep") ? "onestep" : "multiscale";
        SamplerConfig cfg = runs.get(mode).cfg();
        int rows = o.getInt("spark-rows", 1, 1_000_000);
        int rounds = o.getInt("rounds", 1, 100);
        float[] zs2 = new float[rows * per];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(z, (r % dev.count()) * per, zs2, r * per, per);
        }
        List<Double> raw = new ArrayList<>();
        List<Double> spark = new ArrayList<>();
        // The Spark decode as `decode` runs by default (local[*]: a task per core, libtorch threads
        // per task from the slots); the raw decoder in its best setting (one stream, --threads).
        // One JVM, so libtorch's global thread count is switched as the two alternate.
        SparkSession session = SparkSupport.session("mipflow bench", null);
        int sparkThreads = SparkSupport.intraOpThreads(session);
        String master = session.sparkContext().master();
        try (MipflowModel model = MipflowModel.load(o.path("model"), Device.cpu(), auto)) {
            String latents = writeLatents(session, dev, zs2, rows, zs, per, outDir);
            DecodeSettings s = new DecodeSettings(o.path("model").toAbsolutePath().toString(), cfg, fixedBatch, 0,
                    sparkThreads, null, RowLimits.DEFAULT, null, MetricSet.DEFAULT, NumericPath.Request.AUTO, budget);
            int batch = fixedBatch > 0 ? fixedBatch : budget.batchFor(model.bytesPerImage(dev.size(), dev.size()));
            ModeRun rawRun = new ModeRun(mode, auto, cfg, 0, batch, new ArrayList<>(), new long[1], new ArrayList<>());
            String out = outDir.resolve("spark-decode").toString();
            MipflowModel.setThreads(sparkThreads);
            DecodeJob.run(session, List.of(latents), out, s); // the executor's model load and JIT warm-up
            MipflowModel.setThreads(threads);
            decodeAll(model, rawRun, zs2, rows, zs, per, dev.size());
            for (int r = 0; r < rounds; r++) {
                MipflowModel.setThreads(threads);
                long t0 = System.nanoTime();
                decodeAll(model, rawRun, zs2, rows, zs, per, dev.size());
                raw.add(rows / ((System.nanoTime() - t0) / 1e9));
                MipflowModel.setThreads(sparkThreads);
                spark.add(DecodeJob.run(session, List.of(latents), out, s).imagesPerSecond());
                System.out.printf(Locale.ROOT, "round %d raw %.3f images/s, spark %.3f images/s%n", r + 1,
                        raw.get(r), spark.get(r));
            }
        } finally {
            session.stop();
        }
        double rawIps = median(raw);
        double sparkIps = median(spark);
        StringBuilder perRound = new StringBuilder();
        for (int r = 0; r < raw.size(); r++) {
            perRound.append(String.format(Locale.ROOT, "%s%.0f%%", r == 0 ? "" : ", ", 100 * spark.get(r) / raw.get(r)));
        }
        md.append(String.format(Locale.ROOT, "%nSpark decode (%s, %s, %s with %d libtorch thread(s) per task, batch %s, "
                + "%d rows, PNG + metrics + Parquet + commit included) against the raw decoder (one stream, %d threads, "
                + "sampling only) on the same rows, alternated over %d rounds (median): %.3f vs %.3f images/s = %.0f%% "
                + "(per round: %s)%n", mode, auto.label(), master, sparkThreads,
                fixedBatch > 0 ? Integer.toString(fixedBatch) : "auto", rows, threads, rounds, sparkIps, rawIps,
                100 * sparkIps / rawIps, perRound));
        JsonObject j = new JsonObject();
        j.addProperty("mode", mode);
        j.addProperty("numerics", auto.label());
        j.addProperty("rows", rows);
        j.addProperty("spark_images_per_second", sparkIps);
        j.addProperty("raw_images_per_second", rawIps);
        j.addProperty("ratio", sparkIps / rawIps);
        j.add("spark_rounds", new GsonBuilder().create().toJsonTree(spark));
        j.add("raw_rounds", new GsonBuilder().create().toJsonTree(raw));
        json.add("spark", j);
    }

    /** Rows "bench-R" (latent R mod the dev count, the reference PNG) as one Parquet shard. */
    private static String writeLatents(SparkSession spark, DevImages dev, float[] z, int rows, int zs, int per,
            Path outDir) {
        int size = dev.size();
        List<Row> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            int i = r % dev.count();
            byte[] ref = ImageCodec.png(ImageOps.fromPlanar(dev.pixels().get(i), 0, size, size));
            out.add(RowFactory.create("bench-" + r, Arrays.copyOfRange(z, r * per, (r + 1) * per), per / (zs * zs), zs, zs,
                    ref, null));
        }
        String latents = outDir.resolve("latents").toString();
        spark.createDataFrame(out, EncodePartition.OUTPUT).drop("error").coalesce(1).write().mode("overwrite")
                .parquet(latents);
        return latents;
    }

    private static void add(Map<String, ModeRun> runs, String mode, NumericPath p, SamplerConfig cfg, int k, int batch) {
        ModeRun m = new ModeRun(mode, p, cfg, cfg == null ? 1 : cfg.forwardPasses(k), batch, new ArrayList<>(),
                new long[1], new ArrayList<>());
        runs.put(m.name(), m);
    }

    private static float[] decodeAll(MipflowModel model, ModeRun m, float[] z, int n, int zs, int per, int size) {
        int px = 3 * size * size;
        float[] out = new float[n * px];
        for (int s = 0; s < n; s += m.batch()) {
            int b = Math.min(m.batch(), n - s);
            float[] zb = Arrays.copyOfRange(z, s * per, (s + b) * per);
            float[] img;
            if (m.cfg() == null) {
                img = Baselines.teacherOnePass(model, zb, b, size);
            } else {
                RandomGenerator[] g = new RandomGenerator[b];
                for (int i = 0; i < b; i++) {
                    g[i] = RowNoise.forRow(0, "bench-" + (s + i));
                }
                img = new Sampler(model, m.cfg()).decode(zb, b, zs, zs, g);
            }
            System.arraycopy(img, 0, out, s * px, b * px);
        }
        return out;
    }

    private static double[] scores(float[] img, DevImages dev, int size, float[] against) {
        int px = 3 * size * size;
        double p = 0;
        double s = 0;
        for (int i = 0; i < dev.count(); i++) {
            float[] ref = against == null ? dev.pixels().get(i)
                    : ImageOps.quantize(Arrays.copyOfRange(against, i * px, (i + 1) * px));
            ImageMetrics m = ImageMetrics.of(img, i * px, ref, size, size);
            p += Math.min(m.psnr(), 100);
            s += m.ssim();
        }
        return new double[] {p / dev.count(), s / dev.count()};
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
