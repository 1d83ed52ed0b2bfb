package org.mipflow.model;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mipflow.io.LatentSpec;
import org.mipflow.sampling.Guidance;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.schedule.ScheduleConvention;
import org.mipflow.schedule.StageSchedule;

/**
 * model.json of a decoder exported from PyTorch: the TorchScript files and the facts the
 * samplers need, which a .pt cannot tell (docs/own-decoder.md): the latent (a grid
 * of latentChannels with downsample, or tokens with an image size), the stage schedule and how
 * the decoder was trained to be stepped, the modes it was trained for, and its classifier-free
 * guidance (a null condition file, default scale and interval). Every field Mipflow does not
 * know how to honour is refused at load, naming the field.
 *
 * @param teacher the teacher's file, or one file per stage (coarsest first) for exports traced at
 *     each stage's resolution
 * @param student the one-step student's file(s), or empty
 * @param guidance the guidance the decoder was trained with, or null
 * @param memory the measured memory per network row, or null (an export that did not measure it)
 */
public record TorchScriptManifest(List<String> teacher, List<String> student, LatentSpec latent, StageSchedule schedule,
        ScheduleConvention convention, Guidance guidance, Set<SamplingMode> modes, Map<String, String> files,
        RowMemory memory) {
    public static final String FORMAT = "torchscript";
    /** The only time convention the samplers implement; an export with another one must say so and is refused. */
    public static final String TIME_CONVENTION = "x_t = (1-t) x0 + t eps; t = 1 is pure noise";
    public static final String IMAGE_RANGE = "[-1, 1]";
    /** model.json's fields, top level and in "schedule": anything else is a typo or a setting Mipflow cannot honour. */
    static final Set<String> FIELDS = Set.of("format", "teacher", "student", "latentChannels", "downsample", "latent",
            "imageSize", "nullContext", "studentNullContext", "guidance", "modes", "schedule", "sha256", "note",
            "memory");
    static final Set<String> SCHEDULE_FIELDS = Set.of("stages", "gamma", "timeConvention", "imageRange",
            "imageConversion", "nominalStarts", "ends", "networkTime", "timeWindows", "velocity", "grid", "gridEnd",
            "renoise", "fullFlowTime");
    /**
     * The one time convention of the full-resolution flow the samplers implement: the network is
     * given the physical flow time t (1 noise, 0 image). A window-trained decoder must state it to
     * be run in mode full, since its network never saw those times unless it was trained on them.
     */
    public static final String FULL_FLOW_TIME = "physical";
    static final Set<String> GUIDANCE_FIELDS = Set.of("scale", "low", "high");
    static final Set<String> LATENT_FIELDS = Set.of("kind", "tokens", "dim");
    static final Set<String> MEMORY_FIELDS = Set.of("bytesPerRow", "fixedBytes", "height", "width", "peaks",
            "measuredWith");

    /** The two ways of writing the 8-bit conversion Mipflow does (the same numbers). */
    static final Set<String> IMAGE_CONVERSIONS = Set.of("round((x+1)*127.5)", "trunc(clamp(127.5*x+128))");

    public TorchScriptManifest {
        teacher = List.copyOf(teacher);
        student = List.copyOf(student);
        modes = Set.copyOf(modes);
        files = Map.copyOf(files);
    }

    public int latentChannels() {
        return latent instanceof LatentSpec.Grid g ? g.channels() : 1;
    }

    /** Image side / latent side for grid latents; for token latents the image side itself. */
    public int downsample() {
        return latent instanceof LatentSpec.Grid g ? g.downsample() : ((LatentSpec.Tokens) latent).imageSize();
    }

    public boolean hasStudent() {
        return !student.isEmpty();
    }

    public static TorchScriptManifest read(Path dir) {
        JsonObject o = DecoderFacts.json(dir);
        Path json = dir.resolve(ModelManifest.FILE);
        TorchScriptManifest m;
        try {
            JsonObject s = o.getAsJsonObject("schedule");
            unknown(o, FIELDS, "", json);
            unknown(s, SCHEDULE_FIELDS, "schedule.", json);
            if (o.has("guidance")) {
                unknown(o.getAsJsonObject("guidance"), GUIDANCE_FIELDS, "guidance.", json);
            }
            if (o.has("latent")) {
                unknown(o.getAsJsonObject("latent"), LATENT_FIELDS, "latent.", json);
            }
            if (o.has("memory")) {
                unknown(o.getAsJsonObject("memory"), MEMORY_FIELDS, "memory.", json);
            }
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
            if (s.has("imageConversion") && !IMAGE_CONVERSIONS.contains(s.get("imageConversion").getAsString())) {
                throw new ModelFormatException(json + ": schedule.imageConversion '" + s.get("imageConversion")
                        .getAsString() + "' is not one of " + IMAGE_CONVERSIONS);
            }
            Map<String, String> files = new LinkedHashMap<>();
            for (var e : o.getAsJsonObject("sha256").entrySet()) {
                files.put(e.getKey(), e.getValue().getAsString());
            }
            LatentSpec latent = latent(o, json);
            if (o.has("nullContext") && !files.containsKey(o.get("nullContext").getAsString())) {
                throw new ModelFormatException(json + ": sha256 lists no checksum for " + o.get("nullContext")
                        .getAsString());
            }
            StageSchedule schedule = schedule(s, json);
            List<String> student = o.has("student") && !o.get("student").isJsonNull()
                    ? names(o.get("student"), json, "student") : List.of();
            Guidance guidance = guidance(dir, o, latent, !student.isEmpty(), files, json);
            ScheduleConvention stepping = convention(s, schedule, json);
            m = new TorchScriptManifest(names(o.get("teacher"), json, "teacher"), student, latent, schedule,
                    stepping, guidance, modes(o, fullFlowAllowed(s, stepping, json), json), files, memory(o, json));
        } catch (ModelFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelFormatException(json + " is missing or has a malformed field: " + e, e);
        }
        m.check(json);
        ModelManifest.verifyFiles(dir, m.files());
        return m;
    }

    private static void unknown(JsonObject o, Set<String> known, String prefix, Path json) {
        for (String k : o.keySet()) {
            if (!known.contains(k)) {
                throw new ModelFormatException(json + ": unknown field " + prefix + k + " (known: "
                        + new java.util.TreeSet<>(known) + ")");
            }
        }
    }

    private static List<String> names(JsonElement e, Path json, String field) {
        List<String> out = new ArrayList<>();
        if (e.isJsonArray()) {
            e.getAsJsonArray().forEach(x -> out.add(x.getAsString()));
        } else {
            out.add(e.getAsString());
        }
        if (out.isEmpty()) {
            throw new ModelFormatException(json + ": " + field + " names no file");
        }
        return out;
    }

    /** "latent": {"kind": "tokens", ...}, or the grid fields latentChannels/downsample of earlier exports. */
    /** model.json's measured memory per row, or null when the export wrote none. */
    private static RowMemory memory(JsonObject o, Path json) {
        if (!o.has("memory")) {
            return null;
        }
        JsonObject m = o.getAsJsonObject("memory");
        try {
            return new RowMemory(m.get("bytesPerRow").getAsLong(), m.has("fixedBytes") ? m.get("fixedBytes").getAsLong()
                    : 0, m.get("height").getAsInt(), m.get("width").getAsInt());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(json + ": " + e.getMessage());
        }
    }

    private static LatentSpec latent(JsonObject o, Path json) {
        if (!o.has("latent")) {
            int c = o.get("latentChannels").getAsInt();
            int d = o.get("downsample").getAsInt();
            if (c < 1 || c > 64) {
                throw new ModelFormatException(json + ": latentChannels must be in 1..64, is " + c);
            }
            if (d < 1 || d > 64 || Integer.bitCount(d) != 1) {
                throw new ModelFormatException(json + ": downsample must be a power of two up to 64, is " + d);
            }
            return new LatentSpec.Grid(c, d, 1);
        }
        JsonObject l = o.getAsJsonObject("latent");
        String kind = l.get("kind").getAsString();
        if (!"tokens".equals(kind)) {
            throw new ModelFormatException(json + ": latent.kind '" + kind + "' is not \"tokens\" (a grid latent is "
                    + "given by latentChannels and downsample)");
        }
        int size = o.get("imageSize").getAsInt();
        int t = l.get("tokens").getAsInt();
        int d = l.get("dim").getAsInt();
        if (t < 1 || t > 65536 || d < 1 || d > 65536 || size < 8 || size > 8192) {
            throw new ModelFormatException(json + ": latent tokens/dim or imageSize out of range (" + t + ", " + d
                    + ", " + size + ")");
        }
        return new LatentSpec.Tokens(t, d, size);
    }

    private static StageSchedule schedule(JsonObject s, Path json) {
        int k = s.get("stages").getAsInt();
        double gamma = s.get("gamma").getAsDouble();
        if (!s.has("nominalStarts") && !s.has("ends")) {
            return new StageSchedule(k, gamma);
        }
        if (!s.has("nominalStarts") || !s.has("ends")) {
            throw new ModelFormatException(json + ": schedule.nominalStarts and schedule.ends go together");
        }
        try {
            return new StageSchedule(k, gamma, doubles(s.getAsJsonArray("nominalStarts")),
                    doubles(s.getAsJsonArray("ends")));
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(json + ": schedule.nominalStarts/ends: " + e.getMessage(), e);
        }
    }

    private static ScheduleConvention convention(JsonObject s, StageSchedule schedule, Path json) {
        ScheduleConvention d = ScheduleConvention.TORCHSCRIPT_DEFAULT;
        try {
            ScheduleConvention.NetworkTime time = s.has("networkTime") ? ScheduleConvention.parse(
                    ScheduleConvention.NetworkTime.class, "schedule.networkTime", s.get("networkTime").getAsString())
                    : d.networkTime();
            List<List<Double>> windows = new ArrayList<>();
            if (s.has("timeWindows")) {
                for (JsonElement w : s.getAsJsonArray("timeWindows")) {
                    windows.add(doubles(w.getAsJsonArray()));
                }
            }
            if (time == ScheduleConvention.NetworkTime.WINDOWS && windows.size() != schedule.stages()) {
                throw new IllegalArgumentException("schedule.timeWindows needs one [tau_max, tau_min] per stage ("
                        + schedule.stages() + ") with networkTime windows");
            }
            if (time == ScheduleConvention.NetworkTime.PHYSICAL && !windows.isEmpty()) {
                throw new IllegalArgumentException("schedule.timeWindows is given but networkTime is physical");
            }
            ScheduleConvention.StepGrid grid = s.has("grid") ? ScheduleConvention.parse(
                    ScheduleConvention.StepGrid.class, "schedule.grid", s.get("grid").getAsString()) : d.grid();
            double gridEnd = s.has("gridEnd") ? s.get("gridEnd").getAsDouble() : 0.0;
            if (grid == ScheduleConvention.StepGrid.UNIFORM && s.has("gridEnd")) {
                throw new IllegalArgumentException("schedule.gridEnd is given but the grid is uniform");
            }
            return new ScheduleConvention(time, windows,
                    s.has("velocity") ? ScheduleConvention.parse(ScheduleConvention.VelocityUnit.class,
                            "schedule.velocity", s.get("velocity").getAsString()) : d.velocity(),
                    grid, gridEnd,
                    s.has("renoise") ? ScheduleConvention.parse(ScheduleConvention.Renoise.class, "schedule.renoise",
                            s.get("renoise").getAsString()) : d.renoise());
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(json + ": " + e.getMessage(), e);
        }
    }

    /**
     * "nullContext" (a file of the latent's float32 values), the student's own "studentNullContext"
     * if it has one, and "guidance" {scale, low, high}.
     */
    private static Guidance guidance(Path dir, JsonObject o, LatentSpec latent, boolean hasStudent,
            Map<String, String> files, Path json) {
        JsonObject g = o.has("guidance") ? o.getAsJsonObject("guidance") : null;
        if (o.has("studentNullContext")) {
            if (!o.has("nullContext") || !hasStudent) {
                throw new ModelFormatException(json + ": studentNullContext needs a student and a nullContext");
            }
            if (!files.containsKey(o.get("studentNullContext").getAsString())) {
                throw new ModelFormatException(json + ": sha256 lists no checksum for "
                        + o.get("studentNullContext").getAsString());
            }
        }
        if (!o.has("nullContext")) {
            if (g != null && g.has("scale") && g.get("scale").getAsDouble() > 1) {
                throw new ModelFormatException(json + ": guidance.scale > 1 needs a nullContext file");
            }
            return null;
        }
        if (!(latent instanceof LatentSpec.Tokens t)) {
            throw new ModelFormatException(json + ": nullContext is for token latents");
        }
        float[] nul = nullCondition(dir, "nullContext", o.get("nullContext").getAsString(), t, json);
        float[] studentNul = o.has("studentNullContext")
                ? nullCondition(dir, "studentNullContext", o.get("studentNullContext").getAsString(), t, json) : null;
        double scale = g != null && g.has("scale") ? g.get("scale").getAsDouble() : 1.0;
        double low = g != null && g.has("low") ? g.get("low").getAsDouble() : 0.0;
        double high = g != null && g.has("high") ? g.get("high").getAsDouble() : 1.0;
        try {
            return new Guidance(nul, studentNul, scale, low, high);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(json + ": guidance: " + e.getMessage(), e);
        }
    }

    /** A null condition file: T*D float32, little-endian, token-major. */
    private static float[] nullCondition(Path dir, String field, String file, LatentSpec.Tokens t, Path json) {
        try {
            byte[] b = Files.readAllBytes(dir.resolve(file));
            if (b.length != 4L * t.tokens() * t.dim()) {
                throw new ModelFormatException(json + ": " + field + " " + file + " has " + b.length + " bytes; "
                        + t.describe() + " of float32 are " + 4L * t.tokens() * t.dim());
            }
            float[] nul = new float[b.length / 4];
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(nul);
            return nul;
        } catch (IOException e) {
            throw new ModelFormatException(json + ": cannot read " + field + " " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether mode full may run: the full-resolution flow gives the network the physical time t,
     * which a decoder trained on per-stage time windows never saw, unless its model.json states
     * (schedule.fullFlowTime) that it was trained on it.
     */
    private static boolean fullFlowAllowed(JsonObject s, ScheduleConvention convention, Path json) {
        if (s.has("fullFlowTime") && !FULL_FLOW_TIME.equals(s.get("fullFlowTime").getAsString())) {
            throw new ModelFormatException(json + ": schedule.fullFlowTime '" + s.get("fullFlowTime").getAsString()
                    + "' is not supported; the full-resolution flow gives the network the physical time t (1 noise, "
                    + "0 image): \"" + FULL_FLOW_TIME + "\"");
        }
        return convention.networkTime() != ScheduleConvention.NetworkTime.WINDOWS || s.has("fullFlowTime");
    }

    /**
     * "modes", or every mode when absent; full only where {@link #fullFlowAllowed}: left out of
     * the default, refused when declared.
     */
    private static Set<SamplingMode> modes(JsonObject o, boolean fullAllowed, Path json) {
        Set<SamplingMode> modes = EnumSet.noneOf(SamplingMode.class);
        if (!o.has("modes")) {
            modes.addAll(EnumSet.allOf(SamplingMode.class));
            if (!fullAllowed) {
                modes.remove(SamplingMode.FULL);
            }
            return modes;
        }
        for (JsonElement e : o.getAsJsonArray("modes")) {
            try {
                modes.add(SamplingMode.parse(e.getAsString()));
            } catch (IllegalArgumentException x) {
                throw new ModelFormatException(json + ": modes: " + x.getMessage(), x);
            }
        }
        if (modes.isEmpty()) {
            throw new ModelFormatException(json + ": modes names no mode");
        }
        if (modes.contains(SamplingMode.FULL) && !fullAllowed) {
            throw new ModelFormatException(json + ": modes include full, but the decoder was trained on per-stage time "
                    + "windows (schedule.networkTime windows) and model.json states no time convention for the "
                    + "full-resolution flow: remove full, or state schedule.fullFlowTime \"" + FULL_FLOW_TIME
                    + "\" if it was trained on the physical time there");
        }
        return modes;
    }

    private static List<Double> doubles(JsonArray a) {
        List<Double> v = new ArrayList<>();
        a.forEach(e -> v.add(e.getAsDouble()));
        return v;
    }

    /** The module of a stage type (K: the full-resolution flow, which a per-stage export runs with its last file). */
    public String teacherFor(int stageType) {
        return teacher.get(Math.min(stageType, teacher.size() - 1));
    }

    private void check(Path json) {
        int k = schedule.stages();
        for (List<String> fs : List.of(teacher, student)) {
            if (fs.size() != 1 && fs.size() != k && !fs.isEmpty()) {
                throw new ModelFormatException(json + ": teacher and student name one file, or one per stage (" + k
                        + "), not " + fs.size());
            }
            for (String f : fs) {
                if (!f.endsWith(".pt")) {
                    throw new ModelFormatException(json + ": " + f + " is not a .pt file");
                }
                if (!files.containsKey(f)) {
                    throw new ModelFormatException(json + ": sha256 lists no checksum for " + f);
                }
            }
        }
        if (teacher.size() == k && k > 1 && modes.contains(SamplingMode.FULL)) {
            throw new ModelFormatException(json + ": one teacher file per stage, but modes include full (the full "
                    + "resolution flow has no file of its own); state \"modes\" without full");
        }
        if (latent instanceof LatentSpec.Tokens t && t.imageSize() % (1 << (k - 1)) != 0) {
            throw new ModelFormatException(json + ": imageSize " + t.imageSize() + " is not divisible by 2^(stages-1)");
        }
    }
}
