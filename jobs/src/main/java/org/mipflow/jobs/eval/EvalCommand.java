package org.mipflow.jobs.eval;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.LatentRow;
import org.mipflow.jobs.cli.BatchingOptions;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.PhotoOptions;
import org.mipflow.jobs.cli.SamplingOptions;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.metrics.ImageMetrics;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.MipflowModel;
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.DecodedImage;
import org.mipflow.sampling.ImageSampler;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.sampling.TeacherOnePass;

/**
 * {@code mipflow eval}: the quality check of a model on the dev photos, without Spark. Every
 * photo is prepared as encode does (shorter side to --size, antialiased, center crop), encoded,
 * and decoded in each mode through the decode loop ({@link BatchDecoder}); PSNR/SSIM against the
 * prepared photo are printed per mode, and all images are written side by side for a person to
 * look at.
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
        List<Options.Spec> specs = new ArrayList<>(DevImages.options());
        specs.add(Options.Spec.value("modes", "LIST", "full,multiscale,onestep,mean,resize", "what to evaluate"));
        specs.addAll(BatchingOptions.specs());
        specs.add(Options.Spec.value("seed", "N", "0", "noise seed"));
        specs.add(Options.Spec.value("side-by-side", "N", "4", "photos in side-by-side.jpg (the first N of the list: "
                + "a row each, the original and then each mode); 0 writes none"));
        specs.add(Options.Spec.value("out", "DIR", "out/eval", "where images and eval.json go"));
        specs.add(Options.Spec.flag("overwrite", "replace what an earlier run wrote to --out (other files stay); without it "
                + "an --out that holds such output is refused"));
        return specs;
    }

    /** eval.json, the images, named PHOTO-MODE.png, and the side-by-side picture. */
    static final OutputDir.Layout LAYOUT = OutputDir.Layout.of(
            "eval\\.json|side-by-side\\.jpg|.+-(original|full|multiscale|onestep|mean|resize)\\.png",
            "eval.json, side-by-side.jpg, *-MODE.png");
    static final String SIDE_BY_SIDE = "side-by-side.jpg";

    /** One mode's images: PNG bytes and PSNR/SSIM per photo, in the list's order. */
    private record Scored(List<byte[]> pngs, List<ImageMetrics> metrics) {}

    @Override
    public int run(Options o) throws Exception {
        int size = o.getInt("size", 32, 4096);
        PhotoOptions photos = PhotoOptions.parse(o);
        DevImages dev = DevImages.load(photos, size, 0);
        List<String> names = dev.names();
        SamplingOptions sampling = SamplingOptions.parse(o);
        BatchingOptions batching = BatchingOptions.parse(o);
        long seed = o.getLong("seed");
        int sheetAsked = o.getInt("side-by-side", 0, 1000);
        MipflowModel.configureThreads(o.getInt("threads", 1, 1024));
        Path out = o.path("out");
        try (OutputGuard guard = OutputGuard.openLocal("eval", out, List.of(photos.photos()),
                WritePolicy.of(false, o.flag("overwrite")), LAYOUT);
                MipflowModel model = MipflowModel.load(o.path("model"))) {
            int k = model.schedule().stages();
            Map<String, SamplerConfig> modes = sampling.everyMode(k, model.hasStudent());
            List<String> asked = new ArrayList<>();
            for (String mode : o.get("modes").split(",")) {
                asked.add(mode.trim());
                if (!mode.trim().equals("resize")) {
                    sampler(model, mode.trim(), modes); // an unknown mode is refused before --overwrite removes anything
                }
            }
            guard.planIsValid();
            int zs = size / model.downsample();
            int per = model.latentChannels() * zs * zs;
            float[] z = new float[dev.count() * per];
            int sheetRows = Math.min(sheetAsked, dev.count());
            SideBySide sheet = new SideBySide();
            List<byte[]> originals = new ArrayList<>();
            for (int i = 0; i < dev.count(); i++) {
                System.arraycopy(model.encode(dev.pixels().get(i), 1, size, size), 0, z, i * per, per);
                originals.add(png(dev.pixels().get(i), size));
                Files.write(out.resolve(names.get(i) + "-original.png"), originals.get(i));
            }
            sheet.addColumn(originals.subList(0, sheetRows));
            List<LatentRow> rows = dev.rows(z, model.latentChannels(), zs, names::get);
            Map<String, JsonObject> results = new LinkedHashMap<>();
            System.out.printf(Locale.ROOT, "%-12s %8s %8s %8s %10s%n", "mode", "PSNR", "SSIM", "passes", "s/image");
            for (String mode : asked) {
                if (mode.equals(SamplingMode.ONESTEP.label()) && !model.hasStudent()) {
                    System.out.println("onestep      (skipped: the model has no student)");
                    continue;
                }
                long t0 = System.nanoTime();
                Scored scored;
                int passes;
                if (mode.equals("resize")) {
                    scored = resized(dev);
                    passes = 0;
                } else {
                    ImageSampler sampler = sampler(model, mode, modes);
                    passes = sampler.forwardPasses();
                    scored = decoded(new BatchDecoder(model, sampler, seed, MetricSet.DEFAULT,
                            batching.rule(model)).decodeAll(rows), mode);
                }
                double secs = (System.nanoTime() - t0) / 1e9 / names.size();
                double psnr = 0;
                double ssim = 0;
                JsonArray perImage = new JsonArray();
                for (int i = 0; i < names.size(); i++) {
                    ImageMetrics m = scored.metrics().get(i);
                    psnr += m.psnr();
                    ssim += m.ssim();
                    JsonObject pi = new JsonObject();
                    pi.addProperty("image", names.get(i));
                    pi.addProperty("psnr", m.psnr());
                    pi.addProperty("ssim", m.ssim());
                    perImage.add(pi);
                    Files.write(out.resolve(names.get(i) + "-" + mode + ".png"), scored.pngs().get(i));
                }
                sheet.addColumn(scored.pngs().subList(0, sheetRows));
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
            all.addProperty("list", photos.list().toString());
            all.addProperty("size", size);
            results.forEach(all::add);
            Files.writeString(out.resolve("eval.json"), new GsonBuilder().setPrettyPrinting().create().toJson(all) + "\n");
            if (sheetRows > 0) {
                sheet.writeJpeg(out.resolve(SIDE_BY_SIDE));
            }
            System.out.println("images and eval.json written to " + out);
        }
        return 0;
    }

    /** A mode of the model's table, or "mean": the teacher's one pass from t = 1. */
    private static ImageSampler sampler(MipflowModel model, String mode, Map<String, SamplerConfig> modes)
            throws UsageException {
        if (mode.equals("mean")) {
            return new TeacherOnePass(model);
        }
        SamplerConfig cfg = modes.get(mode);
        if (cfg == null) {
            throw new UsageException("unknown mode '" + mode + "' in --modes (full, multiscale, onestep, mean or resize)");
        }
        return new Sampler(model, cfg);
    }

    private static Scored decoded(List<DecodedImage> images, String mode) {
        List<byte[]> pngs = new ArrayList<>();
        List<ImageMetrics> metrics = new ArrayList<>();
        for (DecodedImage d : images) {
            if (!d.ok()) {
                throw new IllegalStateException("mode " + mode + " could not decode " + d.id() + ": " + d.error());
            }
            pngs.add(d.png());
            metrics.add(new ImageMetrics(d.metric("psnr"), d.metric("ssim")));
        }
        return new Scored(pngs, metrics);
    }

    /** The baseline that ignores the latent: it is no decode, so it is scored here. */
    private static Scored resized(DevImages dev) {
        List<byte[]> pngs = new ArrayList<>();
        List<ImageMetrics> metrics = new ArrayList<>();
        for (float[] ref : dev.pixels()) {
            float[] img = Baselines.resize(ref, dev.size());
            pngs.add(png(img, dev.size()));
            metrics.add(ImageMetrics.of(img, 0, ref, dev.size(), dev.size()));
        }
        return new Scored(pngs, metrics);
    }

    private static byte[] png(float[] planar, int size) {
        return ImageCodec.png(ImageOps.fromPlanar(planar, 0, size, size));
    }
}
