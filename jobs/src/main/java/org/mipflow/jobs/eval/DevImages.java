package org.mipflow.jobs;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;

/**
 * Photos from a list, prepared exactly as {@code encode} prepares images (shorter side to
 * {@code size}, antialiased, center crop, 8-bit): the originals that eval and bench score against.
 */
record DevImages(List<String> names, List<float[]> pixels, int size) {

    static DevImages load(Path photos, Path list, int size, int limit) throws IOException, UsageException {
        if (!Files.isReadable(list)) {
            throw new UsageException("photo list " + list + " cannot be read");
        }
        List<String> names = new ArrayList<>();
        List<float[]> px = new ArrayList<>();
        for (String line : Files.readAllLines(list)) {
            if (line.isBlank() || (limit > 0 && names.size() >= limit)) {
                continue;
            }
            Path p = photos.resolve(line.trim());
            if (!Files.isReadable(p)) {
                throw new UsageException("photo " + p + " missing; run scripts/fetch-photos.sh");
            }
            BufferedImage img = ImageCodec.read(p, Long.MAX_VALUE);
            px.add(ImageOps.quantize(ImageOps.shortSideCenterCrop(img, size).data()));
            names.add(Path.of(line.trim()).getFileName().toString().replaceFirst("\\.[^.]+$", ""));
        }
        return new DevImages(names, px, size);
    }

    /** Options every command that scores the dev photos takes: model, photos, list, size, steps, threads. */
    static List<Options.Spec> options() {
        return List.of(
                Options.Spec.value("model", "DIR", "models/default", "model directory"),
                Options.Spec.value("photos", "DIR", "data/photos", "directory filled by scripts/fetch-photos.sh"),
                Options.Spec.value("list", "FILE", "data/lists/photos-dev.lst", "photo list"),
                Options.Spec.value("size", "PX", "256", "image side"),
                Options.Spec.value("steps", "N", "50", "Euler steps of mode full"),
                Options.Spec.value("stage-steps", "N[,N...]", "10", "Euler steps per stage of mode multiscale"),
                Options.Spec.value("threads", "N", Integer.toString(Runtime.getRuntime().availableProcessors()),
                        "libtorch threads"));
    }

    int count() {
        return names.size();
    }

    /** All images as one batch [n,3,size,size]. */
    float[] batch() {
        int per = 3 * size * size;
        float[] out = new float[count() * per];
        for (int i = 0; i < count(); i++) {
            System.arraycopy(pixels.get(i), 0, out, i * per, per);
        }
        return out;
    }
}
