package org.mipflow.model;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.mipflow.schedule.StageSchedule;

/**
 * What the driver needs to know about a model directory of any format before it plans a job:
 * latent shape, schedule and whether a one-step student exists. Reading it verifies every file's
 * checksum, so a corrupt model is refused before any work starts.
 */
public record DecoderFacts(String format, int latentChannels, int downsample, StageSchedule schedule,
        boolean hasStudent, int firstWidth) {

    /**
     * What a decoder of this model adds to a forward pass per h x w image, before it is loaded
     * (the driver plans and prints batch sizes with it); the same estimate as the loaded model's.
     */
    public long bytesPerImage(NumericPath numerics, int h, int w) {
        return TorchScriptManifest.FORMAT.equals(format)
                ? BatchBudget.torchScriptBytesPerImage(h, w)
                : BatchBudget.nativeBytesPerImage(firstWidth, numerics, h, w);
    }

    public static DecoderFacts read(Path dir) {
        String format = format(dir);
        if (ModelManifest.NATIVE.equals(format)) {
            ModelManifest m = ModelManifest.read(dir);
            ModelConfig c = m.config();
            return new DecoderFacts(format, c.latentChannels(), c.downsample(), c.schedule(),
                    m.has(MipflowModel.STUDENT_FILE), c.decoderWidths()[0]);
        }
        if (TorchScriptManifest.FORMAT.equals(format)) {
            TorchScriptManifest m = TorchScriptManifest.read(dir);
            return new DecoderFacts(format, m.latentChannels(), m.downsample(), m.schedule(), m.student() != null, 0);
        }
        throw new ModelFormatException("model " + dir + " has format '" + format + "'; Mipflow reads '"
                + ModelManifest.NATIVE + "' and '" + TorchScriptManifest.FORMAT + "'");
    }

    /** The "format" field of model.json. */
    static String format(Path dir) {
        JsonObject o = json(dir);
        if (!o.has("format") || !o.get("format").isJsonPrimitive()) {
            throw new ModelFormatException(dir.resolve(ModelManifest.FILE) + " has no \"format\" field");
        }
        return o.get("format").getAsString();
    }

    static JsonObject json(Path dir) {
        Path json = dir.resolve(ModelManifest.FILE);
        try {
            return JsonParser.parseString(Files.readString(json, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("not a model directory: " + json + " does not exist");
        } catch (IOException e) {
            throw new ModelFormatException("cannot read " + json + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new ModelFormatException(json + " is not a JSON object: " + e.getMessage(), e);
        }
    }
}
