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
import java.util.List;
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

    /** The recorded SHA-256 of each of {@code names}, as a JSON object: how a training record names a model. */
    public JsonObject sha256Of(List<String> names) {
        JsonObject sums = new JsonObject();
        for (String f : names) {
            sums.addProperty(f, files.get(f));
        }
        return sums;
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
        if (o == null) {
            throw new ModelFormatException(json + " is empty");
        }
        try {
            String format = field(o, "", "format").getAsString();
            JsonObject a = object(o, "architecture");
            JsonObject s = object(o, "schedule");
            int[] widths = GSON.fromJson(field(a, "architecture.", "decoderWidths"), int[].class);
            ModelConfig cfg =
                    new ModelConfig(
                            field(a, "architecture.", "latentChannels").getAsInt(),
                            field(a, "architecture.", "downsample").getAsInt(),
                            field(a, "architecture.", "encoderWidth").getAsInt(),
                            a.has("encoderBlocks") ? a.get("encoderBlocks").getAsInt() : 1,
                            widths,
                            a.has("latentLevels") ? a.get("latentLevels").getAsInt() : 1,
                            field(a, "architecture.", "timeFrequencies").getAsInt(),
                            field(a, "architecture.", "embedDim").getAsInt(),
                            new StageSchedule(field(s, "schedule.", "stages").getAsInt(),
                                    field(s, "schedule.", "gamma").getAsDouble()));
            Map<String, String> files = new LinkedHashMap<>();
            for (var e : object(o, "sha256").entrySet()) {
                files.put(e.getKey(), e.getValue().getAsString());
            }
            ModelManifest m = new ModelManifest(format, cfg, files, o.getAsJsonObject("training"));
            m.verify(dir);
            return m;
        } catch (ModelFormatException e) {
            throw e;
        } catch (MissingField e) {
            throw new ModelFormatException(json + " has no field " + e.getMessage() + " (is it a Mipflow model?)", e);
        } catch (RuntimeException e) {
            // not Java's words about a null or a type: the fields a model.json must have
            throw new ModelFormatException(json + " is missing or has a malformed field (format, architecture: "
                    + "latentChannels, downsample, encoderWidth, decoderWidths, timeFrequencies, embedDim; schedule: "
                    + "stages, gamma; sha256)", e);
        }
    }

    /** A field model.json must have: named by its path in the message when it is missing. */
    private static final class MissingField extends RuntimeException {
        MissingField(String path) {
            super(path, null, false, false);
        }
    }

    private static com.google.gson.JsonElement field(JsonObject o, String prefix, String name) {
        com.google.gson.JsonElement e = o.get(name);
        if (e == null || e.isJsonNull()) {
            throw new MissingField(prefix + name);
        }
        return e;
    }

    private static JsonObject object(JsonObject o, String name) {
        com.google.gson.JsonElement e = field(o, "", name);
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException(name + " is not an object");
        }
        return e.getAsJsonObject();
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
        a.addProperty("encoderBlocks", config.encoderBlocks());
        a.add("decoderWidths", GSON.toJsonTree(config.decoderWidths()));
        a.addProperty("latentLevels", config.latentLevels());
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
