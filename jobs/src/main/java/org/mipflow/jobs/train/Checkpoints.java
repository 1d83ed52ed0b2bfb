package org.mipflow.jobs.train;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import org.mipflow.model.MipflowModel;

/**
 * Atomic training checkpoints: model directory + Adam moments + (step, seconds), written to a
 * temporary directory and renamed into place, so an interrupted write never leaves a broken one.
 */
final class Checkpoints {
    record State(int step, double seconds) {}

    private Checkpoints() {}

    static void write(Path ckpt, MipflowModel model, AdamState adam, int step, double seconds, JsonObject record)
            throws IOException {
        Path tmp = ckpt.resolveSibling(ckpt.getFileName() + ".tmp");
        deleteTree(tmp);
        model.save(tmp, record);
        adam.save(tmp.resolve("adam.ndlist"));
        JsonObject st = new JsonObject();
        st.addProperty("step", step);
        st.addProperty("seconds", seconds);
        Files.writeString(tmp.resolve("state.json"), st.toString(), StandardCharsets.UTF_8);
        Path old = ckpt.resolveSibling(ckpt.getFileName() + ".old");
        deleteTree(old);
        if (Files.exists(ckpt)) {
            Files.move(ckpt, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, ckpt, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    static boolean exists(Path ckpt) {
        return Files.exists(ckpt.resolve("state.json"));
    }

    static State state(Path ckpt) throws IOException {
        JsonObject st = JsonParser.parseString(Files.readString(ckpt.resolve("state.json"))).getAsJsonObject();
        return new State(st.get("step").getAsInt(), st.get("seconds").getAsDouble());
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
