package org.mipflow.model;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.mipflow.schedule.StageSchedule;

/**
 * model.json of a decoder exported from PyTorch: the TorchScript files and the facts the
 * samplers need, which a .pt cannot tell (README, "Bring your own decoder").
 *
 * @param student the one-step student's file, or null
 */
public record TorchScriptManifest(String teacher, String student, int latentChannels, int downsample,
        StageSchedule schedule, Map<String, String> files) {
    public static final String FORMAT = "torchscript";
    /** The only time convention the samplers implement; an export with another one must say so and is refused. */
    public static final String TIME_CONVENTION = "x_t = (1-t) x0 + t eps; t = 1 is pure noise";
    public static final String IMAGE_RANGE = "[-1, 1]";

    public TorchScriptManifest {
        files = Map.copyOf(files);
    }

    public static TorchScriptManifest read(Path dir) {
        JsonObject o = DecoderFacts.json(dir);
        Path json = dir.resolve(ModelManifest.FILE);
        TorchScriptManifest m;
        try {
            JsonObject s = o.getAsJsonObject("schedule");
            String convention = s.get("timeConvention").getAsString();
            if (!TIME_CONVENTION.equals(convention)) {
                throw new ModelFormatException(json + ": timeConvention '" + convention + "' is not supported; the "
                        + "samplers integrate '" + TIME_CONVENTION + "' (export a wrapper that maps your time to it)");
            }
            String range = s.get("imageRange").getAsString();
            if (!IMAGE_RANGE.equals(range)) {
                throw new ModelFormatException(json + ": imageRange '" + range + "' is not supported; images must be "
                        + IMAGE_RANGE);
            }
            Map<String, String> files = new LinkedHashMap<>();
            for (var e : o.getAsJsonObject("sha256").entrySet()) {
                files.put(e.getKey(), e.getValue().getAsString());
            }
            String student = o.has("student") && !o.get("student").isJsonNull() ? o.get("student").getAsString() : null;
            m = new TorchScriptManifest(o.get("teacher").getAsString(), student, o.get("latentChannels").getAsInt(),
                    o.get("downsample").getAsInt(),
                    new StageSchedule(s.get("stages").getAsInt(), s.get("gamma").getAsDouble()), files);
        } catch (ModelFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelFormatException(json + " is missing or has a malformed field: " + e, e);
        }
        m.check(json);
        ModelManifest.verifyFiles(dir, m.files());
        return m;
    }

    private void check(Path json) {
        if (latentChannels < 1 || latentChannels > 64) {
            throw new ModelFormatException(json + ": latentChannels must be in 1..64, is " + latentChannels);
        }
        if (downsample < 1 || downsample > 64 || Integer.bitCount(downsample) != 1) {
            throw new ModelFormatException(json + ": downsample must be a power of two up to 64, is " + downsample);
        }
        for (String f : student == null ? new String[] {teacher} : new String[] {teacher, student}) {
            if (!f.endsWith(".pt")) {
                throw new ModelFormatException(json + ": " + f + " is not a .pt file");
            }
            if (!files.containsKey(f)) {
                throw new ModelFormatException(json + ": sha256 lists no checksum for " + f);
            }
        }
    }
}
