package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.schedule.StageSchedule;

/** Saving, loading and refusing model directories, with the real DJL engine. */
class ModelDirectoryTest {
    static final ModelConfig TINY = new ModelConfig(4, 8, 8, 1, new int[] {8, 16, 32}, 1, 4, 16, StageSchedule.DEFAULT);

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(i * 0.37);
        }
        return v;
    }

    @Test
    void roundTripsAndGivesTheSameOutputs(@TempDir Path dir) throws Exception {
        float[] img = ramp(2 * 3 * 32 * 32);
        float[] z;
        float[] v;
        try (MipflowModel m = MipflowModel.create(TINY, 11)) {
            m.initStudentFromTeacher();
            z = m.encode(img, 2, 32, 32);
            v = m.velocity(img, 2, 32, 32, z, 4, 4, 0.7, 3, false);
            float[] vs = m.velocity(img, 2, 32, 32, z, 4, 4, 0.7, 3, true);
            assertArrayEquals(v, vs, "a fresh student is a copy of the teacher");
            m.save(dir, new JsonObject());
        }
        assertTrue(Files.exists(dir.resolve("model.json")));
        try (MipflowModel m = MipflowModel.load(dir)) {
            assertTrue(m.hasStudent());
            assertArrayEquals(z, m.encode(img, 2, 32, 32));
            assertArrayEquals(v, m.velocity(img, 2, 32, 32, z, 4, 4, 0.7, 3, false));
            assertEquals(2 * 4 * 4 * 4, z.length);
            assertFalse(Float.isNaN(v[0]));
        }
    }

    @Test
    void seedFixesTheInitialWeights() {
        float[] img = ramp(3 * 32 * 32);
        try (MipflowModel a = MipflowModel.create(TINY, 5);
                MipflowModel b = MipflowModel.create(TINY, 5);
                MipflowModel c = MipflowModel.create(TINY, 6)) {
            assertArrayEquals(a.encode(img, 1, 32, 32), b.encode(img, 1, 32, 32));
            assertFalse(java.util.Arrays.equals(a.encode(img, 1, 32, 32), c.encode(img, 1, 32, 32)));
        }
    }

    @Test
    void refusesACorruptParameterFile(@TempDir Path dir) throws Exception {
        try (MipflowModel m = MipflowModel.create(TINY, 1)) {
            m.save(dir, new JsonObject());
        }
        Path f = dir.resolve(MipflowModel.TEACHER_FILE);
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 1;
        Files.write(f, b);
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> MipflowModel.load(dir));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void refusesAMismatchedArchitecture(@TempDir Path dir) throws Exception {
        try (MipflowModel m = MipflowModel.create(TINY, 1)) {
            m.save(dir, new JsonObject());
        }
        // Claim another width in model.json, with checksums still valid.
        Path json = dir.resolve("model.json");
        Files.writeString(json, Files.readString(json).replace("\"encoderWidth\": 8", "\"encoderWidth\": 16"));
        assertThrows(ModelFormatException.class, () -> MipflowModel.load(dir));
    }

    @Test
    void refusesAMissingDirectory(@TempDir Path dir) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> MipflowModel.load(dir.resolve("nope")));
        assertTrue(e.getMessage().contains("not a model directory"), e.getMessage());
    }
}
