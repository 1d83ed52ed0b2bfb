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
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;

/**
 * {@code mipflow bench --model TORCHSCRIPT_DIR}: Mipflow's decode of a PyTorch export next to
 * the plain PyTorch loop users run today ({@code scripts/torch/bench_loop.py} under Debian's
 * torch), same modes, latents size, batch and threads, rounds interleaved so that machine noise
 * hits both alike. Both sides exclude their warm-up; an export has no encoder, so the latents are
 * seeded Gaussian and only speed is compared. Mipflow's side is the decode loop ({@link
 * BatchDecoder}), PNG encoding included; the PyTorch loop only samples.
 */
final class TorchScriptBench {
    private record Side(List<Double> mipflow, List<Double> pytorch) {}

    private TorchScriptBench() {}

    /** {@code guard}: its {@code planIsValid} is called once every option is parsed, before anything is written. */
    static int run(Options o, Path model, org.mipflow.jobs.output.OutputGuard guard) throws Exception {
        if (TorchScriptManifest.read(model).latent() instanceof LatentSpec.Tokens) {
            return guidance(o, model, guard);
        }
        int size = o.getInt("size", 32, 4096);
        int threads = o.getInt("threads", 1, 1024);
        BatchingOptions batching = BatchingOptions.parse(o);
        int rounds = o.getInt("rounds", 1, 100);
        int n = o.getInt("images", 1, 10_000);
        int loopBatch = o.getInt("pytorch-batch", 1, 10_000);
        Path python = o.path("python");
        Path outDir = o.path("out");
        guard.planIsValid();
        Files.createDirectories(outDir);
        MipflowModel.configureThreads(threads);
        Map<String, SamplerConfig> modes = new LinkedHashMap<>();
        Map<String, Side> times = new LinkedHashMap<>();
        Batching.Plan plan;
        try (TorchScriptModel m = TorchScriptModel.load(model)) {
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
            for (String mode : modes.keySet()) {
                // warm-up on every row, as the PyTorch loop warms up on a whole batch (libtorch's
                // profiling executor settles on its plan over the first calls of each shape)
                decodeAll(m, modes.get(mode), rows, plan);
                times.put(mode, new Side(new ArrayList<>(), new ArrayList<>()));
            }
            for (int r = 0; r < rounds; r++) {
                for (var e : modes.entrySet()) {
                    Side s = times.get(e.getKey());
                    boolean pythonFirst = r % 2 == 1;
                    if (pythonFirst) {
                        s.pytorch().add(pytorchLoop(python, model, e.getKey(), passes(e.getValue()), n, loopBatch,
                                threads, size, o));
                    }
                    long t0 = System.nanoTime();
                    decodeAll(m, e.getValue(), rows, plan);
                    s.mipflow().add(n / ((System.nanoTime() - t0) / 1e9));
                    if (!pythonFirst) {
                        s.pytorch().add(pytorchLoop(python, model, e.getKey(), passes(e.getValue()), n, loopBatch,
                                threads, size, o));
                    }
                    System.out.printf(Locale.ROOT, "round %d %-10s mipflow %.2f img/s, pytorch loop %.2f img/s%n", r + 1,
                            e.getKey(), last(s.mipflow()), last(s.pytorch()));
                }
            }
        }
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "# bench (TorchScript %s): %d images at %dx%d, %d threads, %d rounds "
                + "interleaved (median; min-max over rounds)%n%nMipflow: %d row(s) per network call, %d image(s) per "
                + "task batch (%s). Plain PyTorch loop: batches of %d, the whole batch in every call.%n%n", model, n,
                size, size, threads, rounds, plan.callRows(), plan.taskRows(), batching.describe(), loopBatch));
        md.append("| mode | forward passes | Mipflow images/s (decode loop, PNG included) | plain PyTorch loop images/s "
                + "(sampling only) | Mipflow / PyTorch | per round |\n");
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
        JsonObject json = new JsonObject();
        json.addProperty("model", model.toString());
        json.addProperty("images", n);
        json.addProperty("size", size);
        json.addProperty("rows_per_call", plan.callRows());
        json.addProperty("task_rows", plan.taskRows());
        json.addProperty("pytorch_batch", loopBatch);
        json.addProperty("threads", threads);
        json.addProperty("rounds", rounds);
        json.add("modes", rows);
        return report(outDir, md, json);
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
    private static int guidance(Options o, Path model, org.mipflow.jobs.output.OutputGuard guard) throws Exception {
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
        try (TorchScriptModel m = TorchScriptModel.load(model)) {
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
            for (var e : runs.entrySet()) {
                decodeAll(m, e.getValue(), rows, plan); // warm-up on every row, as the grid bench
                ips.put(e.getKey(), new ArrayList<>());
            }
            List<String> order = new ArrayList<>(runs.keySet());
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < order.size(); i++) {
                    String key = order.get((i + r) % order.size());
                    long t0 = System.nanoTime();
                    decodeAll(m, runs.get(key), rows, plan);
                    ips.get(key).add(n / ((System.nanoTime() - t0) / 1e9));
                    System.out.printf(Locale.ROOT, "round %d %-16s %.2f img/s%n", r + 1, key, last(ips.get(key)));
                }
            }
            md.append(String.format(Locale.ROOT, "# bench (TorchScript token decoder %s): %d images of %s at %dx%d, "
                    + "%d threads, %d rounds (median; every round listed)%n%n", model, n, t.describe(), t.imageSize(),
                    t.imageSize(), threads, rounds));
            md.append("| mode | W | forward passes / image | network rows / image | rows per network call | images/s "
                    + "| per round |\n");
            md.append("|---|---|---|---|---|---|---|\n");
            for (var e : runs.entrySet()) {
                Sampler sampler = new Sampler(m, e.getValue());
                int rowsPerCall = plan.callRows();
                double med = Measurements.median(ips.get(e.getKey()));
                md.append(String.format(Locale.ROOT, "| %s | %.2f | %d | %d | %d | %.3f | %s |%n",
                        e.getValue().mode().label(), sampler.cfgScale(), sampler.forwardPasses(),
                        sampler.networkRowsPerImage(), rowsPerCall, med,
                        ips.get(e.getKey()).stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).toList()));
                JsonObject j = new JsonObject();
                j.addProperty("mode", e.getValue().mode().label());
                j.addProperty("cfg_scale", sampler.cfgScale());
                j.addProperty("forward_passes", sampler.forwardPasses());
                j.addProperty("network_rows_per_image", sampler.networkRowsPerImage());
                j.addProperty("rows_per_call", rowsPerCall);
                j.addProperty("images_per_second", med);
                j.add("rounds", new GsonBuilder().create().toJsonTree(ips.get(e.getKey())));
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

    /** The rows through the decode loop (sampling and PNG; no reference, so no metrics). */
    private static void decodeAll(TorchScriptModel m, SamplerConfig cfg, List<LatentRow> rows, Batching.Plan plan) {
        Measurements.allDecoded(new BatchDecoder(m, new Sampler(m, cfg), 0, MetricSet.DEFAULT,
                Batching.Rule.fixed(plan.taskRows(), plan.callRows())).decodeAll(rows), cfg.mode().label());
    }

    /** One run of the plain PyTorch loop in its own process; its images/s exclude start-up and warm-up. */
    private static double pytorchLoop(Path python, Path model, String mode, int expectedPasses, int n, int batch,
            int threads, int size, Options o) throws IOException, InterruptedException, UsageException {
        Path script = python.toAbsolutePath().getParent().resolve("bench_loop.py");
        List<String> cmd = List.of(python.toString(), script.toString(), "--model", model.toString(), "--mode", mode,
                "--images", Integer.toString(n), "--batch", Integer.toString(batch), "--threads", Integer.toString(threads),
                "--size", Integer.toString(size), "--steps", o.get("steps"), "--stage-steps", o.get("stage-steps"));
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
        return r.get("images_per_second").getAsDouble();
    }

    private static int passes(SamplerConfig cfg) {
        return cfg.forwardPasses(cfg.stageSteps().length);
    }

    private static double last(List<Double> v) {
        return v.get(v.size() - 1);
    }

}
