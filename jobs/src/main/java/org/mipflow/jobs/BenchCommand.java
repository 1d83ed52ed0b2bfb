package org.mipflow.jobs;

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
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.ImageMetrics;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.MipflowModel;
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
                + "full, speedup over full; then decodes the same latents through Spark. TorchScript models\n"
                + "(--model with format torchscript): Mipflow's images/s per mode next to the plain PyTorch loop\n"
                + "(scripts/torch/bench_loop.py, same threads and batch), interleaved. Writes bench.md/json.";
    }

    @Override
    public List<Options.Spec> options() {
        List<Options.Spec> specs = new ArrayList<>(DevImages.options());
        specs.add(Options.Spec.value("images", "N", "6", "how many photos of the list"));
        specs.add(Options.Spec.value("rounds", "N", "2", "interleaved rounds; the median time is reported"));
        specs.add(Options.Spec.value("batch-size", "N", "6", "images decoded together"));
        specs.add(Options.Spec.flag("no-spark", "skip the Spark decode"));
        specs.add(Options.Spec.value("out", "DIR", "out/bench", "where bench.md and bench.json go"));
        specs.add(Options.Spec.value("python", "FILE", "scripts/torch/python",
                "TorchScript models: the Python that runs the plain PyTorch loop next to Mipflow"));
        return specs;
    }

    private record ModeRun(String name, SamplerConfig cfg, int passes, List<Double> seconds, long[] peakMb, float[][] out) {}

    @Override
    public int run(Options o) throws Exception {
        if (TorchScriptManifest.FORMAT.equals(DecoderFacts.read(o.path("model")).format())) {
            return TorchScriptBench.run(o, o.path("model"));
        }
        int size = o.getInt("size", 32, 4096);
        int threads = o.getInt("threads", 1, 1024);
        int batch = o.getInt("batch-size", 1, 256);
        int rounds = o.getInt("rounds", 1, 100);
        DevImages dev = DevImages.load(o.path("photos"), o.path("list"), size, o.getInt("images", 1, 10_000));
        Path outDir = o.path("out");
        Files.createDirectories(outDir);
        MipflowModel.configureThreads(threads);
        int n = dev.count();
        int px = 3 * size * size;
        Map<String, ModeRun> runs = new LinkedHashMap<>();
        float[] z;
        int zs;
        int per;
        try (MipflowModel model = MipflowModel.load(o.path("model"))) {
            int k = model.schedule().stages();
            zs = size / model.downsample();
            per = model.latentChannels() * zs * zs;
            z = model.encode(dev.batch(), n, size, size);
            SamplerConfig multi = DecodeCommand.samplerConfig(EvalCommandOptions.of(o, "multiscale"), k);
            add(runs, "full", DecodeCommand.samplerConfig(EvalCommandOptions.of(o, "full"), k), k, rounds);
            add(runs, "multiscale", multi, k, rounds);
            if (model.hasStudent()) {
                add(runs, "onestep", new SamplerConfig(SamplingMode.ONESTEP, 1, multi.stageSteps()), k, rounds);
            }
            runs.put("forward", new ModeRun("forward", null, 1, new ArrayList<>(), new long[1], new float[1][]));
            List<String> order = new ArrayList<>(runs.keySet());
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < order.size(); i++) {
                    ModeRun m = runs.get(order.get((i + r) % order.size()));
                    long t0 = System.nanoTime();
                    float[] img;
                    try (RssSampler rss = new RssSampler()) {
                        img = decodeAll(model, m, z, n, zs, per, batch, size);
                        m.peakMb()[0] = Math.max(m.peakMb()[0], rss.peakMb());
                    }
                    m.seconds().add((System.nanoTime() - t0) / 1e9);
                    m.out()[0] = img;
                    System.out.printf(Locale.ROOT, "round %d %-10s %.2f s%n", r + 1, m.name(), m.seconds().get(r));
                }
            }
        }
        JsonObject json = new JsonObject();
        json.addProperty("images", n);
        json.addProperty("size", size);
        json.addProperty("threads", threads);
        json.addProperty("batch", batch);
        json.addProperty("rounds", rounds);
        double fullIps = n / median(runs.get("full").seconds());
        float[] fullOut = runs.get("full").out()[0];
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "# bench: %d images at %dx%d, batch %d, %d libtorch threads, %d rounds (median)%n%n",
                n, size, size, batch, threads, rounds));
        md.append("| mode | images/s | ms/image | forward passes | peak RSS MB | PSNR | SSIM | PSNR vs full | SSIM vs full | speedup vs full |\n");
        md.append("|---|---|---|---|---|---|---|---|---|---|\n");
        JsonArray modes = new JsonArray();
        for (ModeRun m : runs.values()) {
            double ips = n / median(m.seconds());
            double[] orig = scores(m.out()[0], dev, size, null);
            double[] vsFull = scores(m.out()[0], dev, size, fullOut);
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.0f | %d | %d | %.3f | %.4f | %s | %s | %.1fx |%n", m.name(),
                    ips, 1000 / ips, m.passes(), m.peakMb()[0], orig[0], orig[1],
                    m.name().equals("full") ? "-" : String.format(Locale.ROOT, "%.3f", vsFull[0]),
                    m.name().equals("full") ? "-" : String.format(Locale.ROOT, "%.4f", vsFull[1]), ips / fullIps));
            JsonObject j = new JsonObject();
            j.addProperty("mode", m.name());
            j.addProperty("images_per_second", ips);
            j.addProperty("ms_per_image", 1000 / ips);
            j.addProperty("forward_passes", m.passes());
            j.addProperty("peak_rss_mb", m.peakMb()[0]);
            j.addProperty("psnr", orig[0]);
            j.addProperty("ssim", orig[1]);
            j.addProperty("psnr_vs_full", vsFull[0]);
            j.addProperty("ssim_vs_full", vsFull[1]);
            j.addProperty("speedup_vs_full", ips / fullIps);
            j.add("seconds", new GsonBuilder().create().toJsonTree(m.seconds()));
            modes.add(j);
        }
        json.add("modes", modes);
        if (!o.flag("no-spark")) {
            String mode = runs.containsKey("onestep") ? "onestep" : "multiscale";
            ModeRun raw = runs.get(mode);
            double sparkIps = sparkDecode(o, raw.cfg(), dev, z, zs, per, batch, threads, outDir);
            double rawIps = n / median(raw.seconds());
            md.append(String.format(Locale.ROOT, "%nSpark decode (%s, local[1], %d threads, batch %d, PNG + metrics + Parquet "
                    + "included): %.3f images/s = %.0f%% of the raw decoder's %.3f images/s%n",
                    mode, threads, batch, sparkIps, 100 * sparkIps / rawIps, rawIps));
            JsonObject s = new JsonObject();
            s.addProperty("mode", mode);
            s.addProperty("spark_images_per_second", sparkIps);
            s.addProperty("raw_images_per_second", rawIps);
            s.addProperty("ratio", sparkIps / rawIps);
            json.add("spark", s);
        }
        Files.writeString(outDir.resolve("bench.md"), md.toString());
        Files.writeString(outDir.resolve("bench.json"), new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n");
        System.out.print(md);
        System.out.println("written: " + outDir.resolve("bench.md") + ", " + outDir.resolve("bench.json"));
        return 0;
    }

    private static void add(Map<String, ModeRun> runs, String name, SamplerConfig cfg, int k, int rounds) {
        runs.put(name, new ModeRun(name, cfg, cfg.forwardPasses(k), new ArrayList<>(), new long[1], new float[1][]));
    }

    private static float[] decodeAll(MipflowModel model, ModeRun m, float[] z, int n, int zs, int per, int batch, int size) {
        int px = 3 * size * size;
        float[] out = new float[n * px];
        for (int s = 0; s < n; s += batch) {
            int b = Math.min(batch, n - s);
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

    /** Decodes the same latents with the Spark job (one task using all threads); returns its steady images/s. */
    private static double sparkDecode(Options o, SamplerConfig cfg, DevImages dev, float[] z, int zs, int per, int batch,
            int threads, Path outDir) throws Exception {
        SparkSession spark = SparkSupport.session("mipflow bench", "local[1]");
        try {
            List<Row> rows = new ArrayList<>();
            int size = dev.size();
            for (int i = 0; i < dev.count(); i++) {
                byte[] ref = ImageCodec.png(ImageOps.fromPlanar(dev.pixels().get(i), 0, size, size));
                rows.add(RowFactory.create("bench-" + i, Arrays.copyOfRange(z, i * per, (i + 1) * per), per / (zs * zs),
                        zs, zs, ref, null));
            }
            String latents = outDir.resolve("latents").toString();
            spark.createDataFrame(rows, EncodePartition.OUTPUT).drop("error").coalesce(1).write().mode("overwrite")
                    .parquet(latents);
            DecodeSettings s = new DecodeSettings(o.path("model").toAbsolutePath().toString(), cfg, batch, 0, threads,
                    null, RowLimits.DEFAULT, null);
            // The first run pays for the executor's model load and JIT warm-up; report the second.
            DecodeJob.run(spark, List.of(latents), outDir.resolve("spark-decode").toString(), s);
            return DecodeJob.run(spark, List.of(latents), outDir.resolve("spark-decode").toString(), s).imagesPerSecond();
        } finally {
            spark.stop();
        }
    }
}
