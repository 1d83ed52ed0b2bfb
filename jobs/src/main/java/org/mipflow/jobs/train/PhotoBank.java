package org.mipflow.jobs.train;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.jobs.cli.UsageException;

/**
 * The training photos, decoded once and held in memory at a few scales around the evaluation
 * scale (shorter side 256 px, the whole photo), from which random crops are cut.
 */
public final class PhotoBank {
    private final List<ImageOps.Planar> images;
    private final int skipped;

    private PhotoBank(List<ImageOps.Planar> images, int skipped) {
        this.images = images;
        this.skipped = skipped;
    }

    /**
     * @param root directory the photo list's paths are relative to
     * @param list one relative path per line
     * @param sides shorter-side sizes to keep each photo at
     * @param minSide photos whose shorter side is below this are skipped (they would be upscaled)
     */
    public static PhotoBank load(Path root, Path list, int[] sides, int minSide, int threads) throws Exception {
        List<String> paths = new ArrayList<>();
        for (String line : Files.readAllLines(list)) {
            if (!line.isBlank()) {
                paths.add(line.trim());
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<ImageOps.Planar>>> futures = new ArrayList<>();
            for (String p : paths) {
                futures.add(pool.submit(() -> scales(root.resolve(p), sides, minSide)));
            }
            List<ImageOps.Planar> out = new ArrayList<>();
            int skipped = 0;
            for (Future<List<ImageOps.Planar>> f : futures) {
                List<ImageOps.Planar> s;
                try {
                    s = f.get();
                } catch (ExecutionException e) {
                    // The photo's own one-line error, not the pool's wrapper around it.
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
                if (s.isEmpty()) {
                    skipped++;
                }
                out.addAll(s);
            }
            if (out.isEmpty()) {
                throw new IOException("no usable training photo under " + root);
            }
            return new PhotoBank(out, skipped);
        } finally {
            pool.shutdown();
        }
    }

    private static List<ImageOps.Planar> scales(Path file, int[] sides, int minSide) throws UsageException {
        if (!Files.isReadable(file)) {
            throw new UsageException("training photo missing: " + file + " (run scripts/fetch-photos.sh)");
        }
        BufferedImage img;
        try {
            img = ImageCodec.read(file, Long.MAX_VALUE);
        } catch (IOException e) {
            // e.g. a CMYK JPEG, which the JDK's decoder rejects
            throw new UsageException("training photo " + file + " cannot be decoded (" + e.getMessage()
                    + "): convert it to an RGB or grey JPEG or PNG, or take it out of the list");
        }
        List<ImageOps.Planar> out = new ArrayList<>();
        if (Math.min(img.getWidth(), img.getHeight()) < minSide) {
            return out;
        }
        for (int s : sides) {
            out.add(ImageOps.shortSide(img, s));
        }
        return out;
    }

    public int size() {
        return images.size();
    }

    public int skipped() {
        return skipped;
    }

    /** A random crop [3,size,size], flipped left-right half of the time. */
    public float[] randomCrop(int size, SplittableRandom rng) {
        ImageOps.Planar img = images.get(rng.nextInt(images.size()));
        int y = rng.nextInt(img.height() - size + 1);
        int x = rng.nextInt(img.width() - size + 1);
        float[] c = ImageOps.crop(img.data(), 3, img.height(), img.width(), y, x, size, size);
        if (rng.nextBoolean()) {
            for (int p = 0; p < 3; p++) {
                for (int r = 0; r < size; r++) {
                    int base = p * size * size + r * size;
                    for (int i = 0, j = size - 1; i < j; i++, j--) {
                        float t = c[base + i];
                        c[base + i] = c[base + j];
                        c[base + j] = t;
                    }
                }
            }
        }
        return c;
    }
}
