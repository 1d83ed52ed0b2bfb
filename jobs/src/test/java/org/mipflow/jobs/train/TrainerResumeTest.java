package org.mipflow.jobs.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.model.Checksums;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.model.ModelManifest;

/**
 * A fixed seed reproduces a run, and a run interrupted after a checkpoint and resumed ends with
 * the same weights as one that was never interrupted (teacher training and distillation).
 */
class TrainerResumeTest {
    @TempDir
    static Path tmp;
    static Path photos;
    static Path list;

    @BeforeAll
    static void photos() throws Exception {
        photos = tmp.resolve("photos");
        Files.createDirectories(photos);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            BufferedImage img = new BufferedImage(300, 270, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 270; y++) {
                for (int x = 0; x < 300; x++) {
                    int r = (int) (127 + 120 * Math.sin(x / (5.0 + i)));
                    int g = (int) (127 + 120 * Math.cos(y / (7.0 + i)));
                    img.setRGB(x, y, (r << 16) | (g << 8) | ((x * y) & 255));
                }
            }
            String n = "p" + i + ".png";
            ImageIO.write(img, "png", photos.resolve(n).toFile());
            names.add(n);
        }
        list = tmp.resolve("train.lst");
        Files.write(list, names);
    }

    /** With the SSIM term on, so that resuming is checked with every term of the objective. */
    static TrainConfig config(Path out, int steps, boolean resume) {
        return new TrainConfig(new TrainingSettings(photos, list, out, steps, 2, 64, 1e-3, 2, 9, 2, 2, resume), 4, 3,
                null, 0.2);
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream());
    }

    @Test
    void teacherResumeMatchesAnUninterruptedRun() throws Exception {
        Path a = tmp.resolve("a");
        new TeacherTrainer(config(a, 4, false), quiet()).run("test");
        // A run that stops after its step-2 checkpoint (as if killed during step 3), then resumed to 4.
        Path c = tmp.resolve("c");
        new TeacherTrainer(config(c, 3, false), quiet()).run("first");
        assertTrue(Files.exists(c.resolve("checkpoint/state.json")), "checkpoint at step 2 of 3");
        new TeacherTrainer(config(c, 4, true), quiet()).run("second");
        // Equal to float rounding, not byte for byte: libtorch's multi-threaded reductions (the
        // first convolution's weight gradient) may add in another order from one run to the next
        // (seen once in a full CI run). A resume that got anything wrong (a batch, the Adam moments,
        // the step count) is off by about a step's size, lr = 1e-3, a hundred times the tolerance.
        try (MipflowModel ma = MipflowModel.load(a); MipflowModel mc = MipflowModel.load(c)) {
            var pa = MipflowModel.parameters(ma.encoder(), ma.teacher());
            var pc = MipflowModel.parameters(mc.encoder(), mc.teacher());
            assertEquals(pa.size(), pc.size());
            for (int i = 0; i < pa.size(); i++) {
                assertArrayEquals(pa.get(i).getArray().toFloatArray(), pc.get(i).getArray().toFloatArray(), 1e-5f,
                        pa.get(i).getName());
            }
        }
        ModelManifest m = ModelManifest.read(a);
        assertTrue(m.training().get("trainListSha256").getAsString().equals(Checksums.sha256(list)));
        assertEquals(0.2, m.training().get("ssimWeight").getAsDouble());
        assertEquals("first && second", ModelManifest.read(c).training().get("command").getAsString(),
                "the resumed model records both commands that made it");
    }

    @Test
    void resumeWithOtherSettingsIsRefused() throws Exception {
        Path c = tmp.resolve("other");
        new TeacherTrainer(config(c, 3, false), quiet()).run("test");
        byte[] written = Files.readAllBytes(c.resolve("model.json"));
        TrainConfig same = config(c, 4, true);
        TrainConfig otherSsim = new TrainConfig(same.run(), 4, 3, null, 0.3);
        UsageException e = assertThrows(UsageException.class,
                () -> new TeacherTrainer(otherSsim, quiet()).run("test"));
        assertTrue(e.getMessage().contains("ssimWeight: checkpoint 0.2, this run 0.3"), e.getMessage());
        TrainingSettings r = same.run();
        TrainingSettings otherCrop = new TrainingSettings(r.photos(), r.list(), r.out(), 4, r.batch(), 128,
                r.learningRate(), r.warmup(), r.seed(), r.checkpointEvery(), r.threads(), true);
        e = assertThrows(UsageException.class,
                () -> new TeacherTrainer(new TrainConfig(otherCrop, 4, 3, null, 0.2), quiet()).run("test"));
        assertTrue(e.getMessage().contains("crop: checkpoint 64, this run 128"), e.getMessage());
        e = assertThrows(UsageException.class,
                () -> new TeacherTrainer(new TrainConfig(same.run(), 4, 3, null, 0.2, 2, null), quiet()).run("test"));
        assertTrue(e.getMessage().contains("architecture: checkpoint latent channels 4, encoder width 64 with 1 block(s)"),
                e.getMessage());
        assertTrue(Files.exists(c.resolve("checkpoint/state.json")), "a refused resume keeps the checkpoint");
        assertArrayEquals(written, Files.readAllBytes(c.resolve("model.json")), "and the model it wrote");

        // Distillation: the checkpoint holds its teacher, so a resume with another one is refused.
        Path teacher = tmp.resolve("other-teacher");
        new TeacherTrainer(config(teacher, 2, false), quiet()).run("test");
        Path d = tmp.resolve("other-distill");
        new StudentDistiller(distill(teacher, d, 3, false), quiet()).run("test");
        e = assertThrows(UsageException.class, () -> new StudentDistiller(distill(c, d, 4, true), quiet()).run("test"));
        assertTrue(e.getMessage().contains("distillation.teacherSha256: the checkpoint was distilled from another "
                + "teacher"), e.getMessage());
    }

    @Test
    void distillResumeMatchesAnUninterruptedRun() throws Exception {
        Path teacher = tmp.resolve("teacher");
        new TeacherTrainer(config(teacher, 2, false), quiet()).run("test");
        Path a = tmp.resolve("da");
        new StudentDistiller(distill(teacher, a, 4, false), quiet()).run("test");
        Path c = tmp.resolve("dc");
        new StudentDistiller(distill(teacher, c, 3, false), quiet()).run("first");
        new StudentDistiller(distill(teacher, c, 4, true), quiet()).run("second");
        assertArrayEquals(Files.readAllBytes(a.resolve("student.params")), Files.readAllBytes(c.resolve("student.params")));
        assertArrayEquals(Files.readAllBytes(teacher.resolve("decoder.params")), Files.readAllBytes(a.resolve("decoder.params")),
                "distillation leaves the teacher unchanged");
        JsonObject d = ModelManifest.read(a).training().getAsJsonObject("distillation");
        assertEquals(0.5, d.get("ssimWeight").getAsDouble());
        assertEquals(ModelManifest.read(teacher).files().get("decoder.params"),
                d.getAsJsonObject("teacherSha256").get("decoder.params").getAsString());
        JsonObject dc = ModelManifest.read(c).training().getAsJsonObject("distillation");
        assertEquals("first && second", dc.get("command").getAsString());
    }

    @Test
    void initStartsFromTheGivenModelAndRecordsIt() throws Exception {
        Path first = tmp.resolve("init-first");
        new TeacherTrainer(config(first, 2, false), quiet()).run("test");
        new StudentDistiller(distill(first, first, 1, false), quiet()).run("test");
        // A learning rate of 0 leaves the starting weights as they are: they must be the first model's.
        Path next = tmp.resolve("init-next");
        TrainingSettings still = new TrainingSettings(photos, list, next, 1, 2, 64, 0.0, 1, 9, 2, 2, false);
        new TeacherTrainer(new TrainConfig(still, 4, 3, first), quiet()).run("test");
        for (String f : List.of("encoder.params", "decoder.params")) {
            assertArrayEquals(Files.readAllBytes(first.resolve(f)), Files.readAllBytes(next.resolve(f)), f);
        }
        assertFalse(Files.exists(next.resolve("student.params")), "the first model's student does not match a "
                + "teacher trained further");
        ModelManifest first1 = ModelManifest.read(first);
        JsonObject from = ModelManifest.read(next).training().getAsJsonObject("initFrom");
        assertEquals(first1.files().get("decoder.params"), from.getAsJsonObject("sha256").get("decoder.params")
                .getAsString());
        assertEquals(first1.training().get("steps"), from.getAsJsonObject("training").get("steps"),
                "the starting model's own training record is kept");

        // Grown by two latent channels, an encoder block per level and the latent at every decoder
        // level, and trained at learning rate 0, it encodes as the first did in the first channels and
        // decodes as the first did, whatever the added channels hold.
        Path grown = tmp.resolve("init-grown");
        TrainingSettings still2 = new TrainingSettings(photos, list, grown, 1, 2, 64, 0.0, 1, 9, 2, 2, false);
        new TeacherTrainer(new TrainConfig(still2, 6, 3, first, 0, 2, 3), quiet()).run("test");
        ModelConfig grownCfg = ModelManifest.read(grown).config();
        assertEquals(6, grownCfg.latentChannels());
        assertEquals(2, grownCfg.encoderBlocks());
        assertEquals(3, grownCfg.latentLevels());
        float[] img = new float[3 * 64 * 64];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) Math.cos(i * 0.13);
        }
        try (MipflowModel a = MipflowModel.load(first); MipflowModel b = MipflowModel.load(grown)) {
            float[] z = a.encode(img, 1, 64, 64);
            float[] zb = b.encode(img, 1, 64, 64);
            assertArrayEquals(z, Arrays.copyOf(zb, z.length), 1e-6f);
            assertArrayEquals(a.velocity(img, 1, 64, 64, z, 8, 8, 0.7, 3, false),
                    b.velocity(img, 1, 64, 64, zb, 8, 8, 0.7, 3, false), 1e-6f);
        }
        // A model is grown, never shrunk.
        TrainingSettings shrink = new TrainingSettings(photos, list, tmp.resolve("init-shrunk"), 1, 2, 64, 0.0, 1, 9,
                2, 2, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TeacherTrainer(new TrainConfig(shrink, 6, 3, grown, 0, 1, null), quiet()).run("test"));
        assertTrue(e.getMessage().contains("grown, not shrunk"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TeacherTrainer(new TrainConfig(shrink, 6, 3, grown, 0, null, 1), quiet()).run("test"));
        assertTrue(e.getMessage().contains("--latent-levels"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new TeacherTrainer(new TrainConfig(shrink, 4, 3, grown, 0, null, null), quiet()).run("test"));
        assertTrue(e.getMessage().contains("--latent-channels"), e.getMessage());
    }

    @Test
    void decoderWidthsAreSetFromTheSeed() throws Exception {
        Path wide = tmp.resolve("widths");
        TrainingSettings s = new TrainingSettings(photos, list, wide, 1, 2, 64, 1e-3, 1, 9, 2, 2, false);
        new TeacherTrainer(new TrainConfig(s, 4, 3, null, 0, null, null, new int[] {16, 24, 40}), quiet()).run("t");
        assertArrayEquals(new int[] {16, 24, 40}, ModelManifest.read(wide).config().decoderWidths());
        float[] img = new float[3 * 64 * 64];
        try (MipflowModel m = MipflowModel.load(wide)) {
            float[] z = m.encode(img, 1, 64, 64);
            assertEquals(img.length, m.velocity(img, 1, 64, 64, z, 8, 8, 0.5, 3, false).length);
        }
        // Without the option, a run from it keeps its widths; asking for others is refused by name.
        TrainingSettings next = new TrainingSettings(photos, list, tmp.resolve("widths-next"), 1, 2, 64, 0.0, 1, 9,
                2, 2, false);
        new TeacherTrainer(new TrainConfig(next, 4, 3, wide), quiet()).run("t");
        assertArrayEquals(Files.readAllBytes(wide.resolve("decoder.params")),
                Files.readAllBytes(tmp.resolve("widths-next/decoder.params")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TeacherTrainer(
                new TrainConfig(next, 4, 3, wide, 0, null, null, new int[] {16, 24, 48}), quiet()).checkInit());
        assertTrue(e.getMessage().contains("widths are 16,24,40, this run asks for 16,24,48 (--decoder-widths)"),
                e.getMessage());
    }

    @Test
    void initRefusesAModelOfAnotherShape() throws Exception {
        Path first = tmp.resolve("init-shape");
        new TeacherTrainer(config(first, 1, false), quiet()).run("test");
        TrainingSettings s = new TrainingSettings(photos, list, tmp.resolve("init-shape-next"), 1, 2, 64, 1e-3, 1, 9,
                2, 2, false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TeacherTrainer(new TrainConfig(s, 4, 2, first), quiet()).run("test"));
        assertTrue(e.getMessage().contains("3 stages, this run 2"), e.getMessage());
        // Training into the model it starts from would delete what a --resume reads again.
        TrainingSettings into = new TrainingSettings(photos, list, first, 1, 2, 64, 1e-3, 1, 9, 2, 2,
                WritePolicy.OVERWRITE);
        UsageException u = assertThrows(UsageException.class,
                () -> new TeacherTrainer(new TrainConfig(into, 4, 3, first), quiet()).run("test"));
        assertTrue(u.getMessage().contains("--out"), u.getMessage());
        assertTrue(Files.exists(first.resolve("decoder.params")), "nothing was deleted");
    }

    static DistillConfig distill(Path teacher, Path out, int steps, boolean resume) {
        return new DistillConfig(new TrainingSettings(photos, list, out, steps, 2, 64, 3e-4, 2, 5, 2, 2, resume), teacher, 2,
                0.25, 0.5);
    }
}
