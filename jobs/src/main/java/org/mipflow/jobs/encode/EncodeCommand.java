package org.mipflow.jobs.encode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.SparkSupport;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.decode.DecodeCommand;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.model.ModelManifest;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/** {@code mipflow encode}: images to latents that follow decode's input contract. */
public final class EncodeCommand implements Command {
    @Override
    public String name() {
        return "encode";
    }

    @Override
    public String summary() {
        return "Encodes images into a latents Parquet (id, latent, latent_c/h/w, reference) with the model's\n"
                + "encoder. Input: a directory of PNG/JPEG files (id = file name without extension) or a\n"
                + "Parquet with columns id and image. Each image's shorter side is resized to --size with an\n"
                + "antialiasing (triangle) filter, then it is center-cropped to size x size; that crop, as\n"
                + "PNG, is stored as the reference. Every file given is accounted for: unreadable or truncated\n"
                + "images and unusable Parquet files go to OUT/_errors with the reason, other files are listed\n"
                + "as skipped, images smaller than --size are listed as upscaled, and files whose names differ\n"
                + "only in the extension (f3.jpg, f3.png) keep it in their ids. An OUT that holds an earlier\n"
                + "run's output is refused unless --overwrite says to replace it.";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                Options.Spec.value("input", "PATHS", null, "image directory or Parquet (comma-separated, globs)"),
                Options.Spec.value("out", "DIR", null, "output Parquet directory"),
                Options.Spec.value("model", "DIR", "models/default", "model directory"),
                Options.Spec.value("size", "PX", "256", "output side, a multiple of 32"),
                Options.Spec.value("batch-size", "N", "8", "images encoded together"),
                Options.Spec.value("partitions", "N", "0", "repartition the input into N (0: keep)"),
                Options.Spec.value("latent-dtype", "T", "array", "how latents are stored: array (ARRAY<FLOAT>), "
                        + "or BINARY little-endian float16 | bfloat16 | float32 with a latent_dtype column"),
                Options.Spec.value("master", "URL", null, "Spark master for embedded runs (default local[*])"),
                Options.Spec.value("threads", "N", null, "libtorch threads per executor JVM"),
                Options.Spec.flag("overwrite", "replace what an earlier run wrote to --out (other files stay); without it "
                        + "an --out that holds such output is refused"));
    }

    /** The closing lines: every file given, accounted for. */
    static void report(EncodeJob.Result r, String out, int size) {
        EncodeInputs in = r.inputs();
        System.out.printf(Locale.ROOT, "encode: %d image file(s), %d Parquet file(s) (%d unusable), %d other file(s)%n",
                in.images().size(), in.parquet().size() + in.badParquet().size(), in.badParquet().size(),
                in.others().size());
        System.out.printf(Locale.ROOT, "encoded %d image(s); %d unreadable, truncated or unusable (in %s/_errors)%n",
                r.encoded(), r.errors(), out);
        r.reasons().lines().forEach(System.out::println);
        in.badParquet().entrySet().stream().limit(EncodeJob.EXAMPLES)
                .forEach(e -> System.out.println("  unusable Parquet file " + e.getKey() + ": " + e.getValue()));
        if (!in.others().isEmpty()) {
            System.out.println("not images, skipped: " + examples(in.others()));
        }
        if (!in.keptExtension().isEmpty()) {
            System.out.println("ids that keep their extension (file names that differ only in it): "
                    + examples(in.keptExtension()));
        }
        if (r.upscaled() > 0) {
            System.out.printf(Locale.ROOT, "upscaled to %d px (shorter side smaller): %d image(s): %s%s%n", size,
                    r.upscaled(), String.join(", ", r.upscaledExamples()),
                    r.upscaled() > r.upscaledExamples().size() ? ", ..." : "");
        }
        System.out.println("latents: " + out);
    }

    private static String examples(List<String> all) {
        List<String> names = all.stream().limit(EncodeJob.EXAMPLES)
                .map(p -> p.startsWith("file:") ? new org.apache.hadoop.fs.Path(p).toUri().getPath() : p).toList();
        return String.join(", ", names) + (all.size() > names.size() ? " and " + (all.size() - names.size())
                + " more" : "");
    }

    @Override
    public int run(Options o) throws Exception {
        Path model = o.directory("model", "model directory");
        ModelManifest m = ModelManifest.read(model);
        int size = o.getInt("size", 32, 4096);
        int multiple = m.config().sideMultiple();
        if (size % multiple != 0) {
            throw new UsageException("--size must be a multiple of " + multiple + " for this model, got " + size);
        }
        LatentEncoding encoding = null;
        if (!"array".equals(o.get("latent-dtype"))) {
            try {
                encoding = LatentEncoding.parse(o.get("latent-dtype"));
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage() + " (or array)");
            }
        }
        List<String> inputs = SparkSupport.resolveInputs(o.get("input"));
        String out = o.get("out");
        SparkSession spark = SparkSupport.session("mipflow encode", o.getOr("master", null));
        try {
            int threads = o.has("threads") ? o.getInt("threads", 1, 1024)
                    : SparkSupport.intraOpThreads(spark);
            DecodeSettings s = new DecodeSettings(model.toAbsolutePath().toString(),
                    SamplerConfig.of(SamplingMode.MULTISCALE, m.config().schedule().stages()),
                    o.getInt("batch-size", 1, 1024), 0, threads, null, RowLimits.DEFAULT, null);
            EncodeJob.Result r = EncodeJob.run(spark, inputs, out, s, size, o.getInt("partitions", 0, 100000),
                    encoding, WritePolicy.of(false, o.flag("overwrite")));
            report(r, out, size);
            if (r.encoded() == 0) {
                System.err.println("mipflow encode: nothing was encoded: every input went to errors (reasons above); "
                        + "exit code " + DecodeCommand.NOTHING_DECODED);
                return DecodeCommand.NOTHING_DECODED;
            }
            return 0;
        } finally {
            spark.stop();
        }
    }
}
