package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.metrics.ImageMetrics;
import org.mipflow.model.Checksums;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelManifest;
import org.mipflow.sampling.RowNoise;
import org.mipflow.sampling.Sampler;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/** The model in models/default loads, records how it was trained, and decodes a sample photo. */
class ShippedModelTest {
    static final Path MODEL = Path.of("../models/default");

    @Test
    void recordsItsTraining() throws Exception {
        ModelManifest m = ModelManifest.read(MODEL);
        var t = m.training();
        assertTrue(t.get("command").getAsString().startsWith("bin/mipflow train"), t.toString());
        assertTrue(t.get("steps").getAsInt() > 0 && t.get("wallSeconds").getAsLong() > 0);
        // The list it was trained on ships with the repository (the current photos-train.lst, or the
        // frozen copy a retrained list leaves behind, e.g. photos-train-v1.lst), so it can be reproduced.
        String recorded = t.get("trainListSha256").getAsString();
        List<String> shipped = new ArrayList<>();
        try (var lists = Files.newDirectoryStream(Path.of("../data/lists"), "photos-train*.lst")) {
            for (Path l : lists) {
                shipped.add(Checksums.sha256(l));
            }
        }
        assertTrue(shipped.contains(recorded), "no list in data/lists has the recorded SHA-256 " + recorded);
        assertTrue(m.config().latentChannels() <= 8);
    }

    @Test
    void decodesASamplePhotoRecognisably() throws Exception {
        MipflowModel.configureThreads(2);
        float[] ref = ImageOps.quantize(ImageOps.shortSideCenterCrop(
                ImageCodec.read(Path.of("../sample-data/photos/citrus-fruits.jpg"), Long.MAX_VALUE), 256).data());
        try (MipflowModel model = MipflowModel.load(MODEL)) {
            float[] z = model.encode(ref, 1, 256, 256);
            SamplingMode mode = model.hasStudent() ? SamplingMode.ONESTEP : SamplingMode.MULTISCALE;
            float[] img = new Sampler(model, new SamplerConfig(mode, 50, new int[] {2, 2, 2}))
                    .decode(z, 1, 32, 32, new RandomGenerator[] {RowNoise.forRow(0, "citrus-fruits")}, 1);
            ImageMetrics q = ImageMetrics.of(img, 0, ref, 256, 256);
            // Far above what an unrelated image scores (about 10 dB) and below a perfect copy.
            assertTrue(q.psnr() > 17 && q.psnr() < 60, "PSNR " + q.psnr());
            assertTrue(q.ssim() > 0.3, "SSIM " + q.ssim());
        }
    }
}
