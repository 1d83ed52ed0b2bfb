package org.mipflow.jobs.encode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.SparkSupport;
import org.mipflow.jobs.cli.UsageException;
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
                + "PNG, is stored as the reference. Unreadable images are listed and written to OUT/_errors.";
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
            System.out.println("encoded " + r.encoded() + " images, " + r.errors() + " unreadable; latents: " + out);
            return r.encoded() == 0 && r.errors() > 0 ? 1 : 0;
        } finally {
            spark.stop();
        }
    }
}
