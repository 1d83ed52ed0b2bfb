package org.mipflow.spark;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import org.mipflow.model.MipflowModel;
import org.mipflow.model.ModelConfig;
import org.mipflow.schedule.StageSchedule;

/**
 * A small, randomly initialised model with a student (4 latent channels): the real engine, fast
 * enough for Spark tests. The jobs tests have the same one as {@code TestModels.tiny}: the modules
 * share no test classes (that would need a test-jar, which reactor-only builds cannot resolve).
 */
final class TinyModel {
    static final ModelConfig CONFIG = new ModelConfig(4, 8, 8, 1, new int[] {8, 16, 32}, 1, 4, 16, StageSchedule.DEFAULT);

    private TinyModel() {}

    static Path write(Path dir) throws Exception {
        try (MipflowModel m = MipflowModel.create(CONFIG, 42)) {
            m.initStudentFromTeacher();
            JsonObject t = new JsonObject();
            t.addProperty("note", "random weights, for tests");
            m.save(dir, t);
        }
        return dir;
    }
}
