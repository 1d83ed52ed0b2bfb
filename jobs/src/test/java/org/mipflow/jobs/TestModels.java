package org.mipflow.jobs;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.schedule.StageSchedule;

/** A small, randomly initialised model with a student: real engine, fast enough for Spark tests. */
public final class TestModels {
    static final ModelConfig TINY = new ModelConfig(4, 8, 8, 1, new int[] {8, 16, 32}, 1, 4, 16, StageSchedule.DEFAULT);

    private TestModels() {}

    public static Path tiny(Path dir) throws Exception {
        try (MipflowModel m = MipflowModel.create(TINY, 42)) {
            m.initStudentFromTeacher();
            JsonObject t = new JsonObject();
            t.addProperty("note", "random weights, for tests");
            m.save(dir, t);
        }
        return dir;
    }
}
