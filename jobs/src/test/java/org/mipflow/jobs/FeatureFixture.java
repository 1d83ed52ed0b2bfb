package org.mipflow.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;

/**
 * udf's feature-network fixture (scripts/torch/make_feature_fixture.py), for decodes with
 * {@code --features}: the network, and its 80 images of 64 x 64 as PNG references for the tiny
 * test model's 8 x 8 latents.
 */
public final class FeatureFixture {
    public static final Path DIR = Path.of("../udf/src/test/resources/features").toAbsolutePath().normalize();
    public static final Path NETWORK = DIR.resolve("good");
    static final int SIZE = 64;
    static final int COUNT = 80;

    private FeatureFixture() {}

    /** Reference PNG number {@code i} (taken modulo the 80 fixture images). */
    public static byte[] referencePng(int i) throws IOException {
        byte[] all = Files.readAllBytes(DIR.resolve("images.bin"));
        int px = 3 * SIZE * SIZE;
        int base = Math.floorMod(i, COUNT) * px;
        float[] planar = new float[px];
        for (int k = 0; k < px; k++) {
            planar[k] = (all[base + k] & 0xff) / 127.5f - 1f;
        }
        return ImageCodec.png(ImageOps.fromPlanar(planar, 0, SIZE, SIZE));
    }
}
