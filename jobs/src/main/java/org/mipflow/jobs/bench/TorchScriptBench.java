package org.mipflow.jobs.bench;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.mipflow.io.LatentRow;
import org.mipflow.io.LatentSpec;
import org.mipflow.jobs.cli.BatchingOptions;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.SamplingOptions;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.TorchScriptManifest;
import org.mipflow.model.TorchScriptModel;
import ai.djl.Device;
import java.util.random.RandomGenerator;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;

/**
 * {@code mipflow bench --model TORCHSCRIPT_DIR}: Mipflow's decode of a PyTorch export next to
 * the plain PyTorch loop users run today ({@code scripts/torch/bench_loop.py}, by default under
 * Debian trixie's torch 2.6), same modes, latents size, threads and rows per call (or the loop's
 * own best batch), rounds interleaved so that machine noise hits both alike. Both sides time the
 * same work, sampling to float images, warm-up excluded; Mipflow's PNG encoding is timed apart.
 * An export has no encoder, so the latents are seeded Gaussian and only speed is compared.
 * {@code --device gpu} runs both sides on the GPU (the loop refuses when its torch has no CUDA);
 * {@code --sweep} and {@code --sweep-only} time Mipflow's rows per call; {@code --numerics} and
 * {@code --features} do not apply to an export and are refused.
 */
final class TorchScriptBench {
    private record Side(List<Double> mipflow, List<Double> pytorch) {}

    private TorchScriptBench() {}

    /** {@code guard}: its {@code planIsValid} is called once every option is parsed, before anything is written. */
    static int run(Options o, Path model, org.mipflow.jobs.output.OutputGuard guard) throws Exception {
        refuseWhatDoesNotApply(o);
        Device device = BenchCommand.device(o.get("device"));
        if (TorchScriptManifest.read(model).latent() instanceof LatentSpec.Tokens) {
            return guidance(o, model, guard, device);
        }
        int size = o.getInt("size", 32, 4096);
        int threads = o.getInt("threads", 1, 1024);
        BatchingOptions batching = BatchingOptions.parse(o);
        int rounds = o.getInt("rounds", 1, 100);
        int n = o.getInt("images", 1, 10_000);
        Path python = o.path("python");
        Path outDir = o.path("out");
        guard.planIsValid();
        Files.createDirectories(outDir);
        MipflowModel.configureThreads(threads);
        Map<String, SamplerConfig> modes = new LinkedHashMap<>();
        Map<String, Side> times = new LinkedHashMap<>();
        List<Double> pngMs = new ArrayList<>();
        Batching.Plan plan;
        int loopBatch;
        String loopTorch = null;
        StringBuilder md = new StringBuilder();
        JsonObject json = new JsonObject();
        try (TorchScriptModel m = TorchScriptModel.load(model, device)) {
            int k = m.schedule().stages();
            int zs = size / m.downsample();
            int c = m.latentChannels();
            plan = batching.plan(m, size, size);
            modes.putAll(SamplingOptions.parse(o).everyMode(k, m.hasStudent()));
            SplittableRandom rnd = new SplittableRandom(0);
            List<LatentRow> rows = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                float[] z = new float[c * zs * zs];
                for (int j = 0; j < z.length; j++) {
                    z[j] = (float) rnd.nextGaussian();
                }
                rows.add(new LatentRow("bench-" + i, z, c, zs, zs, null));
            }
            List<Integer> swept = BenchCommand.sweep(o.get("sweep"), plan.callRows());
            if (o.flag("sweep-only") || swept.size() > 2 || !o.get("sweep").equals("1,auto")) {
                md.append(sweepTable(m, modes, rows, plan, swept, rounds, json));
            }
            if (o.flag("sweep-only")) {
                json.addProperty("model", model.toString());
                return report(outDir, md, json);
            }
            loopBatch = loopBatch(o, plan, python, model, modes, n, threads, size, device);
            for (String mode : modes.keySet()) {
                warmUp(m, modes.get(mode), rows, plan);
                times.put(mode, new Side(new ArrayList<>(), new ArrayList<>()));
            }
            for (int r = 0; r < rounds; r++) {
                for (var e : modes.entrySet()) {
                    Side s = times.get(e.getKey());
                    boolean pythonFirst = r % 2 == 1;
                    JsonObject loop = null;
                    if (pythonFirst) {
                        loop = pytorchLoop(python, model, e.getKey(), passes(e.getValue()), n, loopBatch, threads, size,
                                o, device, null);
                    }
                    long t0 = System.nanoTime();
                    List<float[]> images = sampleAll(m, e.getValue(), rows, plan);
                    s.mipflow().add(n / ((System.nanoTime() - t0) / 1e9));
                    if (!pythonFirst) {
                        loop = pytorchLoop(python, model, e.getKey(), passes(e.getValue()), n, loopBatch, threads, size,
                                o, device, null);
                    }
                    s.pytorch().add(loop.get("images_per_second").getAsDouble());
                    loopTorch = loop.get("torch").getAsString();
                    pngMs.add(pngMs(images, size));
                    System.out.printf(Locale.ROOT, "round %d %-10s mipflow %.2f img/s, pytorch loop %.2f img/s "
                            + "(then PNG %.2f ms/image)%n", r + 1, e.getKey(), last(s.mipflow()), last(s.pytorch()),
                            last(pngMs));
                }
            }
        }
        String mipTorch = "libtorch " + ai.djl.engine.Engine.getEngine("PyTorch").getVersion() + " (DJL)";
        md.append(String.format(Locale.ROOT, "# bench (TorchScript %s): %d images at %dx%d on %s, %d threads, %d rounds "
                + "interleaved (median; min-max over rounds)%n%nBoth sides time the same work: sampling to float "
                + "images (noise, every network call, the Euler steps and jumps), warm-up excluded. Mipflow (%s): %d "
                + "row(s) per network call, %d image(s) per task batch (%s). Plain PyTorch loop (torch %s, %s): "
                + "batches of %d, the whole batch in every call. PNG encoding, timed apart: %.2f ms/image (median).%n%n",
                model, n, size, size, device, threads, rounds, mipTorch, plan.callRows(), plan.taskRows(),
                batching.describe(), loopTorch, python, loopBatch, Measurements.median(pngMs)));
        md.append("| mode | forward passes | Mipflow images/s | plain PyTorch loop images/s | Mipflow / PyTorch "
                + "(ratio of medians) | Mipflow / PyTorch per round |\n");
        md.append("|---|---|---|---|---|---|\n");
        JsonArray rows = new JsonArray();
        for (var e : times.entrySet()) {
            List<Double> mip = e.getValue().mipflow();
            List<Double> pt = e.getValue().pytorch();
            List<Double> ratios = new ArrayList<>();
            for (int r = 0; r < mip.size(); r++) {
                ratios.add(mip.get(r) / pt.get(r));
            }
            int passes = passes(modes.get(e.getKey()));
            md.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %.2f | %s |%n", e.getKey(), passes, spread(mip),
                    spread(pt), Measurements.median(mip) / Measurements.median(pt), rounds(ratios)));
            JsonObject j = new JsonObject();
            j.addProperty("mode", e.getKey());
            j.addProperty("forward_passes", passes);
            j.addProperty("mipflow_images_per_second", Measurements.median(mip));
            j.addProperty("pytorch_images_per_second", Measurements.median(pt));
            j.addProperty("ratio", Measurements.median(mip) / Measurements.median(pt));
            j.add("mipflow_rounds", new GsonBuilder().create().toJsonTree(mip));
            j.add("pytorch_rounds", new GsonBuilder().create().toJsonTree(pt));
            rows.add(j);
        }
        json.addProperty("model", model.toString());
        json.addProperty("device", device.toString());
        json.addProperty("images", n);
        json.addProperty("size", size);
        json.addProperty("rows_per_call", plan.callRows());
        json.addProperty("task_rows", plan.taskRows());
        json.addProperty("mipflow_torch", mipTorch);
        json.addProperty("pytorch_batch", loopBatch);
        json.addProperty("pytorch_torch", loopTorch);
        json.addProperty("png_ms_per_image", Measurements.median(pngMs));
        json.addProperty("threads", threads);
        json.addProperty("rounds", rounds);
        json.add("modes", rows);
        return report(outDir, md, json);
    }

    /**
     * The options of the photo bench that have no meaning for an export, refused with the reason
     * rather than ignored: it computes as exported (no --numerics) and has no encoder, so no
     * reference images (no --features).
     */
    private static void refuseWhatDoesNotApply(Options o) throws UsageException {
        if (!o.get("numerics").equals(BenchCommand.DEFAULT_NUMERICS)) {
            throw new UsageException("--numerics does not apply to a TorchScript export: it computes in what it was "
                    + "exported in");
        }
        if (o.has("features")) {
            throw new UsageException("--features needs reference images, and a TorchScript export has no encoder to "
                    + "make them from: run decode --features on latents with references instead");
        }
        if (o.flag("spark-only")) {
            throw new UsageException("--spark-only: the Spark comparison runs on the photo bench's native model only");
        }
    }

    /**
     * The plain loop's batch: {@code same} (Mipflow's rows per call), {@code sweep} (the loop's own
     * fastest of 1, 2, 4, 8, 16 and Mipflow's, found by one timed pass each in the first mode), or N.
     */
    private static int loopBatch(Options o, Batching.Plan plan, Path python, Path model,
            Map<String, SamplerConfig> modes, int n, int threads, int size, Device device) throws Exception {
        String v = o.get("pytorch-batch");
        if (v.equals("same")) {
            return plan.callRows();
        }
        if (!v.equals("sweep")) {
            return o.getInt("pytorch-batch", 1, 10_000);
        }
        var first = modes.entrySet().iterator().next();
        String values = java.util.stream.Stream.of(1, 2, 4, 8, 16, plan.callRows()).distinct().sorted()
                .map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
        JsonObject r = pytorchLoop(python, model, first.getKey(), passes(first.getValue()), n, plan.callRows(), threads,
                size, o, device, values);
        System.out.println("pytorch loop sweep (" + first.getKey() + "): " + r.get("sweep") + " -> batch "
                + r.get("batch"));
        return r.get("batch").getAsInt();
    }

    /** Warm-up passes over one task batch, on both sides of the race (bench_loop.py's WARM_UP_PASSES). */
    static final int WARM_UP_PASSES = 3;

    /**
     * The warm-up before timing: libtorch's profiling executor profiles the first call of each
     * shape and builds its optimised plan on the next, so the third pass is the first steady one.
     * The PyTorch loop warms up the same way on its first batch.
     */
    private static void warmUp(TorchScriptModel m, SamplerConfig cfg, List<LatentRow> rows, Batching.Plan plan) {
        List<LatentRow> first = rows.subList(0, Math.min(rows.size(), plan.taskRows()));
        for (int i = 0; i < WARM_UP_PASSES; i++) {
            sampleAll(m, cfg, first, plan);
        }
    }

    /**
     * Mipflow at each swept rows-per-call value, in the first mode, rounds interleaved (sampling to
     * float images, as the race).
     */
    private static String sweepTable(TorchScriptModel m, Map<String, SamplerConfig> modes, List<LatentRow> rows,
            Batching.Plan auto, List<Integer> values, int rounds, JsonObject json) {
        var first = modes.entrySet().iterator().next();
        Map<Integer, List<Double>> ips = new LinkedHashMap<>();
        for (int b : values) {
            sampleAll(m, first.getValue(), rows, new Batching.Plan(b, b)); // warm-up at this shape
            ips.put(b, new ArrayList<>());
        }
        for (int r = 0; r < rounds; r++) {
            for (int b : values) {
                long t0 = System.nanoTime();
                sampleAll(m, first.getValue(), rows, new Batching.Plan(b, b));
                ips.get(b).add(rows.size() / ((System.nanoTime() - t0) / 1e9));
                System.out.printf(Locale.ROOT, "sweep round %d %s B=%d %.2f img/s%n", r + 1, first.getKey(), b,
                        last(ips.get(b)));
            }
        }
        StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "# rows per call (%s, %d images, auto = %d; "
                + "N = B)%n%n| rows per call | images/s | per round |%n|---|---|---|%n", first.getKey(), rows.size(),
                auto.callRows()));
        JsonArray a = new JsonArray();
        ips.forEach((b, v) -> {
            md.append(String.format(Locale.ROOT, "| %d | %s | %s |%n", b, spread(v), rounds(v)));
            JsonObject j = new JsonObject();
            j.addProperty("rows_per_call", b);
            j.addProperty("images_per_second", Measurements.median(v));
            a.add(j);
        });
        json.add("sweep", a);
        return md.append("\n").toString();
    }

    /**
     * The rows sampled to float images, task batch by task batch, through the sampler the decode
     * loop calls (each row's noise from its id, B rows per call): {@link BatchDecoder} without
     * its PNG and metrics half.
     */
    private static List<float[]> sampleAll(TorchScriptModel m, SamplerConfig cfg, List<LatentRow> rows,
            Batching.Plan plan) {
        Sampler sampler = new Sampler(m, cfg);
        List<float[]> out = new ArrayList<>();
        for (int first = 0; first < rows.size(); first += plan.taskRows()) {
            List<LatentRow> batch = rows.subList(first, Math.min(rows.size(), first + plan.taskRows()));
            LatentRow r0 = batch.get(0);
            int per = r0.latent().length;
            float[] z = new float[batch.size() * per];
            RandomGenerator[] rngs = new RandomGenerator[batch.size()];
            for (int i = 0; i < batch.size(); i++) {
                System.arraycopy(batch.get(i).latent(), 0, z, i * per, per);
                rngs[i] = RowNoise.forRow(0, batch.get(i).id());
            }
            out.add(sampler.decode(z, batch.size(), r0.height(), r0.width(), rngs, plan.callRows()));
        }
        return out;
    }

    /** PNG encoding of sampled images, ms per image (the part of decode the race leaves out). */
    private static double pngMs(List<float[]> batches, int size) {
        long t0 = System.nanoTime();
        int count = 0;
        int px = 3 * size * size;
        for (float[] b : batches) {
            for (int off = 0; off < b.length; off += px) {
                ImageCodec.png(ImageOps.fromPlanar(b, off, size, size));
                count++;
            }
        }
        return (System.nanoTime() - t0) / 1e6 / Math.max(1, count);
    }

    /** "12.345 (11.9-12.8)": the median and the range over rounds. */
    private static String spread(List<Double> v) {
        return String.format(Locale.ROOT, "%.3f (%.2f-%.2f)", Measurements.median(v),
                v.stream().mapToDouble(Double::doubleValue).min().orElse(0),
                v.stream().mapToDouble(Double::doubleValue).max().orElse(0));
    }

    /** Each round's value, "1.02, 0.98, ...". */
    private static String rounds(List<Double> v) {
        return String.join(", ", v.stream().map(x -> String.format(Locale.ROOT, "%.2f", x)).toList());
    }

    /** bench.md and bench.json into {@code outDir}, the table also printed. */
    private static int report(Path outDir, StringBuilder md, JsonObject json) throws IOException {
        Files.writeString(outDir.resolve("bench.md"), md.toString());
        Files.writeString(outDir.resolve("bench.json"), new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n");
        System.out.print(md);
        System.out.println("written: " + outDir.resolve("bench.md") + ", " + outDir.resolve("bench.json"));
        return 0;
    }

    /**
     * A token decoder: each mode it was trained for unguided (W = 1) and guided (W = --cfg-scale,
     * else the model's default; each image's unconditional twin is a row of the same calls),
     * interleaved round by round. The plain PyTorch loop script takes grid
     * latents only, so there is no PyTorch column here.
     */
    private static int guidance(Options o, Path model, org.mipflow.jobs.output.OutputGuard guard, Device device)
            throws Exception {
        int threads = o.getInt("threads", 1, 1024);
        BatchingOptions batching = BatchingOptions.parse(o);
        int rounds = o.getInt("rounds", 1, 100);
        int n = o.getInt("images", 1, 10_000);
        Path outDir = o.path("out");
        guard.planIsValid();
        Files.createDirectories(outDir);
        MipflowModel.configureThreads(threads);
        StringBuilder md = new StringBuilder();
        JsonArray json = new JsonArray();
        try (TorchScriptModel m = TorchScriptModel.load(model, device)) {
            LatentSpec.Tokens t = (LatentSpec.Tokens) m.latent();
            Batching.Plan plan = batching.plan(m, t.imageSize(), t.imageSize());
            SamplingOptions sampling = SamplingOptions.parse(o);
            double guided = Double.isNaN(sampling.cfgScale()) ? m.guidance() == null ? 1 : m.guidance().scale()
                    : sampling.cfgScale();
            SplittableRandom rnd = new SplittableRandom(0);
            List<LatentRow> rows = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                float[] z = new float[t.tokens() * t.dim()];
                for (int j = 0; j < z.length; j++) {
                    z[j] = (float) rnd.nextGaussian();
                }
                rows.add(new LatentRow("bench-" + i, z, 1, t.tokens(), t.dim(), null));
            }
            Map<String, SamplerConfig> runs = new LinkedHashMap<>();
            for (var e : sampling.everyMode(m.schedule().stages(), m.hasStudent()).entrySet()) {
                if (!m.modes().contains(e.getValue().mode())) {
                    continue;
                }
                for (double w : guided > 1 ? new double[] {1.0, guided} : new double[] {1.0}) {
                    runs.put(e.getKey() + " W=" + w, e.getValue().withCfgScale(w));
                }
            }
            Map<String, List<Double>> ips = new LinkedHashMap<>();
            Map<String, List<Double>> loop = new LinkedHashMap<>();
            for (var e : runs.entrySet()) {
                warmUp(m, e.getValue(), rows, plan);
                ips.put(e.getKey(), new ArrayList<>());
                loop.put(e.getKey(), new ArrayList<>());
            }
            String loopTorch = null;
            List<String> order = new ArrayList<>(runs.keySet());
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < order.size(); i++) {
                    String key = order.get((i + r) % order.size());
                    SamplerConfig cfg = runs.get(key);
                    JsonObject l = r % 2 == 1 ? tokenLoop(o, model, cfg, n, plan, threads, device) : null;
                    long t0 = System.nanoTime();
                    sampleAll(m, cfg, rows, plan);
                    ips.get(key).add(n / ((System.nanoTime() - t0) / 1e9));
                    if (l == null) {
                        l = tokenLoop(o, model, cfg, n, plan, threads, device);
                    }
                    loop.get(key).add(l.get("images_per_second").getAsDouble());
                    loopTorch = l.get("torch").getAsString();
                    System.out.printf(Locale.ROOT, "round %d %-16s mipflow %.2f img/s, pytorch loop %.2f img/s%n", r + 1,
                            key, last(ips.get(key)), last(loop.get(key)));
                }
            }
            md.append(String.format(Locale.ROOT, "# bench (TorchScript token decoder %s): %d images of %s at %dx%d on "
                    + "%s, %d threads, %d rounds interleaved (median; every round listed)%n%nBoth sides sample to float "
                    + "images. Mipflow (libtorch %s, DJL): %d row(s) per network call, a guided image's twin a row of "
                    + "the same calls. Plain PyTorch loop (torch %s): the authors' loop (reference_sampler.decode), "
                    + "batches of %d images, a guided call carrying the batch and its twins.%n%n", model, n,
                    t.describe(), t.imageSize(), t.imageSize(), device, threads, rounds,
                    ai.djl.engine.Engine.getEngine("PyTorch").getVersion(), plan.callRows(), loopTorch,
                    plan.callRows()));
            md.append("| mode | W | forward passes / image | network rows / image | rows per network call | Mipflow "
                    + "images/s | PyTorch loop images/s | Mipflow / PyTorch | per round |\n");
            md.append("|---|---|---|---|---|---|---|---|---|\n");
            for (var e : runs.entrySet()) {
                Sampler sampler = new Sampler(m, e.getValue());
                List<Double> mip = ips.get(e.getKey());
                List<Double> pt = loop.get(e.getKey());
                List<Double> ratios = new ArrayList<>();
                for (int r = 0; r < mip.size(); r++) {
                    ratios.add(mip.get(r) / pt.get(r));
                }
                double med = Measurements.median(mip);
                md.append(String.format(Locale.ROOT, "| %s | %.2f | %d | %d | %d | %s | %s | %.2f | %s |%n",
                        e.getValue().mode().label(), sampler.cfgScale(), sampler.forwardPasses(),
                        sampler.networkRowsPerImage(), plan.callRows(), spread(mip), spread(pt),
                        med / Measurements.median(pt), rounds(ratios)));
                JsonObject j = new JsonObject();
                j.addProperty("mode", e.getValue().mode().label());
                j.addProperty("cfg_scale", sampler.cfgScale());
                j.addProperty("forward_passes", sampler.forwardPasses());
                j.addProperty("network_rows_per_image", sampler.networkRowsPerImage());
                j.addProperty("rows_per_call", plan.callRows());
                j.addProperty("images_per_second", med);
                j.addProperty("pytorch_images_per_second", Measurements.median(pt));
                j.add("mipflow_rounds", new GsonBuilder().create().toJsonTree(mip));
                j.add("pytorch_rounds", new GsonBuilder().create().toJsonTree(pt));
                json.add(j);
            }
            speedups(runs, ips, md);
        }
        JsonObject out = new JsonObject();
        out.addProperty("model", model.toString());
        out.addProperty("images", n);
        out.addProperty("rounds", rounds);
        out.add("runs", json);
        return report(outDir, md, out);
    }

    /**
     * The method's speed-up on this decoder: onestep (the student, one pass per stage) against
     * multiscale (the teacher, N steps per stage) at each W, medians and round by round (the runs
     * were interleaved, so round r of each was measured under the same load).
     */
    private static void speedups(Map<String, SamplerConfig> runs, Map<String, List<Double>> ips, StringBuilder md) {
        for (String key : runs.keySet()) {
            if (runs.get(key).mode() != org.mipflow.sampling.SamplingMode.ONESTEP) {
                continue;
            }
            String teacher = org.mipflow.sampling.SamplingMode.MULTISCALE.label() + key.substring(key.indexOf(' '));
            if (!ips.containsKey(teacher)) {
                continue;
            }
            List<Double> one = ips.get(key);
            List<Double> multi = ips.get(teacher);
            List<Double> ratios = new ArrayList<>();
            for (int r = 0; r < one.size(); r++) {
                ratios.add(one.get(r) / multi.get(r));
            }
            md.append(String.format(Locale.ROOT, "%nonestep / multiscale (%s, %s): %.2fx (median), per round %s%n",
                    key.substring(key.indexOf(' ') + 1), Arrays.toString(runs.get(teacher).stageSteps())
                            + " teacher steps per stage", Measurements.median(one) / Measurements.median(multi),
                    rounds(ratios)));
        }
    }

    /** The authors' loop on a token decoder, batches of Mipflow's rows per call, guided as {@code cfg}. */
    private static JsonObject tokenLoop(Options o, Path model, SamplerConfig cfg, int n, Batching.Plan plan,
            int threads, Device device) throws Exception {
        Path python = o.path("python");
        Path script = python.toAbsolutePath().getParent().resolve("bench_loop.py");
        List<String> cmd = List.of(python.toString(), script.toString(), "--model", model.toString(), "--mode",
                cfg.mode().label(), "--images", Integer.toString(n), "--batch", Integer.toString(plan.callRows()),
                "--threads", Integer.toString(threads), "--stage-steps", o.get("stage-steps"), "--cfg-scale",
                Double.toString(cfg.cfgScale()), "--device", device.isGpu() ? "cuda" : "cpu");
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new UsageException("the PyTorch loop failed (" + String.join(" ", cmd) + "): " + out);
        }
        String[] lines = out.strip().split("\n");
        return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
    }

    /**
     * One run of the plain PyTorch loop in its own process: its JSON line (images/s excluding
     * start-up and warm-up, its torch version); with {@code sweep}, its fastest batch among those.
     */
    private static JsonObject pytorchLoop(Path python, Path model, String mode, int expectedPasses, int n, int batch,
            int threads, int size, Options o, Device device, String sweep)
            throws IOException, InterruptedException, UsageException {
        Path script = python.toAbsolutePath().getParent().resolve("bench_loop.py");
        List<String> cmd = new ArrayList<>(List.of(python.toString(), script.toString(), "--model", model.toString(),
                "--mode", mode, "--images", Integer.toString(n), "--batch", Integer.toString(batch), "--threads",
                Integer.toString(threads), "--size", Integer.toString(size), "--steps", o.get("steps"), "--stage-steps",
                o.get("stage-steps"), "--device", device.isGpu() ? "cuda" : "cpu"));
        if (sweep != null) {
            cmd.addAll(List.of("--sweep", sweep));
        }
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new UsageException("the PyTorch loop failed (" + String.join(" ", cmd) + "): " + out);
        }
        String[] lines = out.strip().split("\n");
        JsonObject r = JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
        int passes = r.get("forward_passes").getAsInt();
        if (passes != expectedPasses) {
            throw new IllegalStateException("the PyTorch loop ran " + passes + " forward passes per image in mode " + mode
                    + ", Mipflow " + expectedPasses + ": not the same work");
        }
        return r;
    }

    private static int passes(SamplerConfig cfg) {
        return cfg.forwardPasses(cfg.stageSteps().length);
    }

    private static double last(List<Double> v) {
        return v.get(v.size() - 1);
    }

}
