package org.mipflow.jobs;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.random.RandomGenerator;
import javax.imageio.ImageIO;
import org.mipflow.io.ImageOps;
import org.mipflow.metrics.ImageMetrics;
import org.mipflow.model.MipflowModel;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;

/**
 * {@code mipflow eval}: the quality check of a model on the dev photos, without Spark. Every
 * photo is prepared as encode does (shorter side to --size, antialiased, center crop), encoded,
 * and decoded in each mode; PSNR/SSIM against the prepared photo are printed per mode, and all
 * images are written side by side for a person to look at.
 */
public final class EvalCommand implements Command {
    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "Encodes and decodes the dev photos and prints PSNR/SSIM per mode: full (50 Euler steps),\n"
                + "multiscale (K stages), onestep (if the model has a student) and two deterministic\n"
                + "baselines: 'mean' (the teacher's one-pass estimate from t = 1) and 'resize' (area\n"
                + "downsampling by 8 and bilinear upsampling, which ignores the latent).";
    }

    @Override
    public List<Options.Spec> options() {
        List<Options.Spec> specs = new java.util.ArrayList<>(DevImages.options());
        specs.add(Options.Spec.value("modes", "LIST", "full,multiscale,onestep,mean,resize", "what to evaluate"));
        specs.add(Options.Spec.value("batch-size", "N", "4", "images decoded together"));
        specs.add(Options.Spec.value("seed", "N", "0", "noise seed"));
        specs.add(Options.Spec.value("out", "DIR", "out/eval", "where images and eval.json go"));
        return specs;
    }

    @Override
    public int run(Options o) throws Exception {
        int size = o.getInt("size", 32, 4096);
        DevImages dev = DevImages.load(o.path("photos"), o.path("list"), size, 0);
        List<String> names = dev.names();
        List<float[]> refs = dev.pixels();
        Path list = o.path("list");
        MipflowModel.configureThreads(o.getInt("threads", 1, 1024));
        Path out = o.path("out");
        Files.createDirectories(out);
        try (MipflowModel model = MipflowModel.load(o.path("model"))) {
            int k = model.schedule().stages();
            int batch = o.getInt("batch-size", 1, 256);
            long seed = o.getLong("seed");
            int px = 3 * size * size;
            int zs = size / model.downsample();
            int per = model.latentChannels() * zs * zs;
            float[] z = new float[names.size() * per];
            for (int i = 0; i < names.size(); i++) {
                System.arraycopy(model.encode(refs.get(i), 1, size, size), 0, z, i * per, per);
                ImageIO.write(ImageOps.fromPlanar(refs.get(i), 0, size, size), "png", out.resolve(names.get(i) + "-original.png").toFile());
            }
            Map<String, JsonObject> results = new LinkedHashMap<>();
            System.out.printf(Locale.ROOT, "%-12s %8s %8s %8s %10s%n", "mode", "PSNR", "SSIM", "passes", "s/image");
            for (String mode : o.get("modes").split(",")) {
                mode = mode.trim();
                if (mode.equals("onestep") && !model.hasStudent()) {
                    System.out.println("onestep      (skipped: the model has no student)");
                    continue;
                }
                boolean sampled = !mode.equals("mean") && !mode.equals("resize");
                SamplerConfig cfg = sampled ? DecodeCommand.samplerConfig(EvalCommandOptions.of(o, mode), k) : null;
                int passes = sampled ? cfg.forwardPasses(k) : mode.equals("mean") ? 1 : 0;
                long t0 = System.nanoTime();
                float[] img = new float[names.size() * px];
                for (int s = 0; s < names.size(); s += batch) {
                    int n = Math.min(batch, names.size() - s);
                    float[] zb = java.util.Arrays.copyOfRange(z, s * per, (s + n) * per);
                    float[] r;
                    if (mode.equals("mean")) {
                        r = Baselines.teacherOnePass(model, zb, n, size);
                    } else if (mode.equals("resize")) {
                        r = Baselines.resize(refs, s, n, size);
                    } else {
                        RandomGenerator[] g = new RandomGenerator[n];
                        for (int i = 0; i < n; i++) {
                            g[i] = RowNoise.forRow(seed, names.get(s + i));
                        }
                        r = new Sampler(model, cfg).decode(zb, n, zs, zs, g);
                    }
                    System.arraycopy(r, 0, img, s * px, n * px);
                }
                double secs = (System.nanoTime() - t0) / 1e9 / names.size();
                double psnr = 0;
                double ssim = 0;
                JsonArray perImage = new JsonArray();
                for (int i = 0; i < names.size(); i++) {
                    ImageMetrics m = ImageMetrics.of(img, i * px, refs.get(i), size, size);
                    psnr += m.psnr();
                    ssim += m.ssim();
                    JsonObject pi = new JsonObject();
                    pi.addProperty("image", names.get(i));
                    pi.addProperty("psnr", m.psnr());
                    pi.addProperty("ssim", m.ssim());
                    perImage.add(pi);
                    ImageIO.write(ImageOps.fromPlanar(img, i * px, size, size), "png",
                            out.resolve(names.get(i) + "-" + mode + ".png").toFile());
                }
                psnr /= names.size();
                ssim /= names.size();
                System.out.printf(Locale.ROOT, "%-12s %8.3f %8.4f %8d %10.3f%n", mode, psnr, ssim, passes, secs);
                JsonObject r = new JsonObject();
                r.addProperty("psnr", psnr);
                r.addProperty("ssim", ssim);
                r.addProperty("forward_passes", passes);
                r.addProperty("seconds_per_image", secs);
                r.add("per_image", perImage);
                results.put(mode, r);
            }
            JsonObject all = new JsonObject();
            all.addProperty("model", o.get("model"));
            all.addProperty("list", list.toString());
            all.addProperty("size", size);
            results.forEach(all::add);
            Files.writeString(out.resolve("eval.json"), new GsonBuilder().setPrettyPrinting().create().toJson(all) + "\n");
            System.out.println("images and eval.json written to " + out);
        }
        return 0;
    }
}
