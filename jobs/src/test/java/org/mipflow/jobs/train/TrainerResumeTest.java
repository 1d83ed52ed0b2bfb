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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * A run interrupted after a checkpoint and resumed goes on from where the checkpoint was written
 * (teacher training and distillation), refuses other settings, and --init starts from a given model.
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
    void teacherResumeRedoesTheStepAfterItsCheckpoint() throws Exception {
        Path c = tmp.resolve("c");
        new TeacherTrainer(config(c, 3, false), quiet()).run("first");
        assertTrue(Files.exists(c.resolve("checkpoint/state.json")), "checkpoint at step 2 of 3");
        Map<String, float[]> uninterrupted = weights(c, false);
        // As if killed during step 3: the resumed run does step 3 again, from the checkpoint.
        new TeacherTrainer(config(c, 3, true), quiet()).run("second");
        assertSameStep(uninterrupted, weights(c, false));
        ModelManifest m = ModelManifest.read(c);
        assertTrue(m.training().get("trainListSha256").getAsString().equals(Checksums.sha256(list)));
        assertEquals(0.2, m.training().get("ssimWeight").getAsDouble());
        assertEquals("first && second", m.training().get("command").getAsString(),
                "the resumed model records both commands that made it");
    }

    /** The parameters of the model in {@code dir} by name: its student's, or its encoder's and teacher's. */
    static Map<String, float[]> weights(Path dir, boolean student) throws Exception {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (MipflowModel m = MipflowModel.load(dir)) {
            var ps = student ? MipflowModel.parameters(m.student()) : MipflowModel.parameters(m.encoder(), m.teacher());
            for (var p : ps) {
                out.put(p.getName(), p.getArray().toFloatArray());
            }
        }
        return out;
    }

    /**
     * Equal to float rounding. Only the one step after the checkpoint is compared, not a longer
     * run: libtorch's CPU kernels are not bitwise reproducible from one run to the next (rarely, a
     * reduction rounds otherwise), and Adam makes such a difference in a near-zero gradient into a
     * step of full size, so two runs of several steps may end a step apart (CI saw 2e-3 once, after
     * four steps, and there the run that never stopped was the odd one out). One step from the same
     * weights, moments and batch stays within rounding; a resume that got any of them or the step
     * count wrong is off by about a step's size (lr 1e-3 for the teacher, 3e-4 for the student), 30
     * to 100 times the tolerance.
     */
    static void assertSameStep(Map<String, float[]> expected, Map<String, float[]> actual) {
        assertEquals(expected.keySet(), actual.keySet());
        for (var e : expected.entrySet()) {
            assertArrayEquals(e.getValue(), actual.get(e.getKey()), 1e-5f, e.getKey());
        }
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
    void distillResumeRedoesTheStepAfterItsCheckpoint() throws Exception {
        Path teacher = tmp.resolve("teacher");
        new TeacherTrainer(config(teacher, 2, false), quiet()).run("test");
        Path c = tmp.resolve("dc");
        new StudentDistiller(distill(teacher, c, 3, false), quiet()).run("first");
        Map<String, float[]> uninterrupted = weights(c, true);
        new StudentDistiller(distill(teacher, c, 3, true), quiet()).run("second");
        assertSameStep(uninterrupted, weights(c, true));
        assertArrayEquals(Files.readAllBytes(teacher.resolve("decoder.params")), Files.readAllBytes(c.resolve("decoder.params")),
                "distillation leaves the teacher unchanged");
        JsonObject d = ModelManifest.read(c).training().getAsJsonObject("distillation");
        assertEquals(0.5, d.get("ssimWeight").getAsDouble());
        assertEquals(ModelManifest.read(teacher).files().get("decoder.params"),
                d.getAsJsonObject("teacherSha256").get("decoder.params").getAsString());
        assertEquals("first && second", d.get("command").getAsString());
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
