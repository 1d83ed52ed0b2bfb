package org.mipflow.jobs.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.LatentRow;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.PhotoOptions;
import org.mipflow.jobs.cli.SamplingOptions;
import org.mipflow.jobs.cli.UsageException;

/**
 * Photos from a list, prepared exactly as {@code encode} prepares images (shorter side to
 * {@code size}, antialiased, center crop, 8-bit): the originals that eval and bench score against.
 */
public record DevImages(List<String> names, List<float[]> pixels, int size) {

    /** The first {@code limit} photos of the list (0: all), at {@code size} px. */
    public static DevImages load(PhotoOptions photos, int size, int limit) throws IOException, UsageException {
        List<String> names = new ArrayList<>();
        List<float[]> px = new ArrayList<>();
        for (String line : Files.readAllLines(photos.list())) {
            if (line.isBlank() || (limit > 0 && names.size() >= limit)) {
                continue;
            }
            Path p = photos.photos().resolve(line.trim());
            if (!Files.isReadable(p)) {
                throw new UsageException("photo " + p + " missing; run scripts/fetch-photos.sh");
            }
            BufferedImage img = ImageCodec.read(p, Long.MAX_VALUE);
            px.add(ImageOps.quantize(ImageOps.shortSideCenterCrop(img, size).data()));
            names.add(Path.of(line.trim()).getFileName().toString().replaceFirst("\\.[^.]+$", ""));
        }
        return new DevImages(names, px, size);
    }

    /**
     * Options every command that scores the dev photos takes: model, photos, list, size, steps,
     * stage steps, threads.
     */
    public static List<Options.Spec> options() {
        List<Options.Spec> s = new ArrayList<>();
        s.add(Options.Spec.value("model", "DIR", "models/default", "model directory"));
        s.addAll(PhotoOptions.specs(PhotoOptions.DEV_LIST, "photo list"));
        s.add(Options.Spec.value("size", "PX", "256", "image side"));
        s.addAll(SamplingOptions.specs(null));
        s.add(Options.Spec.value("threads", "N", Integer.toString(Runtime.getRuntime().availableProcessors()),
                "libtorch threads"));
        return s;
    }

    public int count() {
        return names.size();
    }

    /**
     * The photos as decode rows: latent i is {@code z[i * C * zs * zs ...]}, its reference photo i,
     * its id {@code ids.apply(i)} (which, with the seed, picks its noise).
     */
    public List<LatentRow> rows(float[] z, int channels, int zs, IntFunction<String> ids) {
        int per = channels * zs * zs;
        List<LatentRow> rows = new ArrayList<>(count());
        for (int i = 0; i < count(); i++) {
            rows.add(new LatentRow(ids.apply(i), Arrays.copyOfRange(z, i * per, (i + 1) * per), channels, zs, zs,
                    pixels.get(i)));
        }
        return rows;
    }

    /** All images as one batch [n,3,size,size]. */
    public float[] batch() {
        int per = 3 * size * size;
        float[] out = new float[count() * per];
        for (int i = 0; i < count(); i++) {
            System.arraycopy(pixels.get(i), 0, out, i * per, per);
        }
        return out;
    }
}
