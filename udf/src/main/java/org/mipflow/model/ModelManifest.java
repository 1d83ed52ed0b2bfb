package org.mipflow.model;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mipflow.schedule.StageSchedule;

/**
 * The content of {@code model.json}: format, architecture, schedule, how it was trained and the
 * SHA-256 of every parameter file. Reading verifies every checksum before anything is loaded.
 */
public record ModelManifest(
        String format, ModelConfig config, Map<String, String> files, JsonObject training) {

    public static final String FILE = "model.json";
    public static final String NATIVE = "mipflow";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    public ModelManifest {
        files = Map.copyOf(files);
        training = training == null ? new JsonObject() : training;
    }

    public boolean has(String file) {
        return files.containsKey(file);
    }

    public static ModelManifest read(Path dir) {
        Path json = dir.resolve(FILE);
        String text;
        try {
            text = Files.readString(json, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("not a model directory: " + json + " does not exist");
        } catch (IOException e) {
            throw new ModelFormatException("cannot read " + json + ": " + e.getMessage(), e);
        }
        JsonObject o;
        try {
            o = GSON.fromJson(text, JsonObject.class);
        } catch (RuntimeException e) {
            throw new ModelFormatException(json + " is not valid JSON: " + e.getMessage(), e);
        }
        try {
            String format = o.get("format").getAsString();
            JsonObject a = o.getAsJsonObject("architecture");
            JsonObject s = o.getAsJsonObject("schedule");
            int[] widths = GSON.fromJson(a.get("decoderWidths"), int[].class);
            ModelConfig cfg =
                    new ModelConfig(
                            a.get("latentChannels").getAsInt(),
                            a.get("downsample").getAsInt(),
                            a.get("encoderWidth").getAsInt(),
                            widths,
                            a.get("timeFrequencies").getAsInt(),
                            a.get("embedDim").getAsInt(),
                            new StageSchedule(s.get("stages").getAsInt(), s.get("gamma").getAsDouble()));
            Map<String, String> files = new LinkedHashMap<>();
            for (var e : o.getAsJsonObject("sha256").entrySet()) {
                files.put(e.getKey(), e.getValue().getAsString());
            }
            ModelManifest m = new ModelManifest(format, cfg, files, o.getAsJsonObject("training"));
            m.verify(dir);
            return m;
        } catch (ModelFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            // not Java's words about a null or a type: the fields a model.json must have
            throw new ModelFormatException(json + " is missing or has a malformed field (format, architecture: "
                    + "latentChannels, downsample, encoderWidth, decoderWidths, timeFrequencies, embedDim; schedule: "
                    + "stages, gamma; sha256)", e);
        }
    }

    /** Checks every listed file against its recorded SHA-256. */
    public void verify(Path dir) {
        verifyFiles(dir, files);
    }

    /** Checks each file (relative to {@code dir}, which it may not leave) against its SHA-256. */
    static void verifyFiles(Path dir, Map<String, String> files) {
        for (var e : files.entrySet()) {
            Path f = dir.resolve(e.getKey()).normalize();
            if (!f.startsWith(dir.normalize())) {
                throw new ModelFormatException("model.json names a file outside the model directory: " + e.getKey());
            }
            String actual;
            try {
                actual = Checksums.sha256(f);
            } catch (NoSuchFileException ex) {
                throw new ModelFormatException("model file missing: " + f);
            } catch (IOException ex) {
                throw new ModelFormatException("cannot read model file " + f + ": " + ex.getMessage(), ex);
            }
            if (!actual.equalsIgnoreCase(e.getValue())) {
                throw new ModelFormatException(
                        "model file " + f + " is corrupt or was changed: sha256 " + actual
                                + " does not match the recorded " + e.getValue());
            }
        }
    }

    public void write(Path dir) throws IOException {
        JsonObject o = new JsonObject();
        o.addProperty("format", format);
        JsonObject a = new JsonObject();
        a.addProperty("latentChannels", config.latentChannels());
        a.addProperty("downsample", config.downsample());
        a.addProperty("encoderWidth", config.encoderWidth());
        a.add("decoderWidths", GSON.toJsonTree(config.decoderWidths()));
        a.addProperty("timeFrequencies", config.timeFrequencies());
        a.addProperty("embedDim", config.embedDim());
        o.add("architecture", a);
        JsonObject s = new JsonObject();
        s.addProperty("stages", config.schedule().stages());
        s.addProperty("gamma", config.schedule().gamma());
        s.addProperty("timeConvention", "x_t = (1-t) x0 + t eps; t = 1 is pure noise");
        s.addProperty("imageRange", "[-1, 1]");
        o.add("schedule", s);
        JsonObject sha = new JsonObject();
        files.forEach(sha::addProperty);
        o.add("sha256", sha);
        o.add("training", training);
        Files.writeString(dir.resolve(FILE), GSON.toJson(o) + "\n", StandardCharsets.UTF_8);
    }
}
