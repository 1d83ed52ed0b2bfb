package org.mipflow.model;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.mipflow.io.LatentSpec;
import org.mipflow.sampling.Guidance;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.ScheduleConvention;
import org.mipflow.schedule.StageSchedule;

/**
 * What the driver needs to know about a model directory of any format before it plans a job:
 * latent shape, schedule and whether a one-step student exists. Reading it verifies every file's
 * checksum, so a corrupt model is refused before any work starts.
 */
public record DecoderFacts(String format, int latentChannels, int downsample, StageSchedule schedule,
        boolean hasStudent, int firstWidth, LatentSpec latent, Set<SamplingMode> modes, Guidance guidance,
        ScheduleConvention convention, RowMemory memory, Map<String, String> files) {

    /** {@code files}: the SHA-256 of every file model.json lists (verified when read), by file name. */
    public DecoderFacts {
        files = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(files));
    }

    /**
     * The sampler a decode of this model runs with {@code cfg}, checked on the driver: a mode the
     * model was not trained for, or guidance without a null condition, is refused with one line.
     *
     * @throws IllegalArgumentException naming the model and the problem
     */
    public SamplerConfig check(String model, SamplerConfig cfg) {
        if (!modes.contains(cfg.mode())) {
            String why = cfg.mode() == SamplingMode.FULL
                    && convention.networkTime() == ScheduleConvention.NetworkTime.WINDOWS
                    ? " (it was trained on per-stage time windows, and its model.json states no schedule.fullFlowTime)"
                    : "";
            throw new IllegalArgumentException("model " + model + " was not trained for mode " + cfg.mode().label()
                    + why + "; its modes: " + SamplingMode.offered(true).stream().filter(modes::contains)
                    .map(SamplingMode::label).toList());
        }
        double w = cfg.cfgScaleFor(guidance);
        if (w > 1 && guidance == null) {
            throw new IllegalArgumentException("model " + model + " has no null condition, so it cannot be guided: "
                    + "--cfg-scale must be at most 1, is " + w);
        }
        return cfg;
    }

    /** The guidance scale W a decode with {@code cfg} uses (1: unguided). */
    public double cfgScale(SamplerConfig cfg) {
        return cfg.cfgScaleFor(guidance);
    }

    /** Forward passes of the network per image with {@code cfg}. */
    public int forwardPasses(SamplerConfig cfg) {
        return cfg.forwardPasses(schedule.stages());
    }

    /** Rows the network computes per image with {@code cfg}, a guided step's unconditional twin counted. */
    public int networkRowsPerImage(SamplerConfig cfg) {
        return cfg.networkRows(new FlowScheduler(schedule, convention), guidance);
    }

    /**
     * What a row of h x w adds to a network call of this model, before it is loaded (the driver
     * prints the plan with it); the same estimate as the loaded model's.
     */
    public long bytesPerRow(NumericPath numerics, int h, int w) {
        return TorchScriptManifest.FORMAT.equals(format)
                ? RowBytes.torchScript(memory, h, w)
                : RowBytes.nativeNetwork(firstWidth, numerics, h, w);
    }

    public static DecoderFacts read(Path dir) {
        String format = format(dir);
        if (ModelManifest.NATIVE.equals(format)) {
            ModelManifest m = ModelManifest.read(dir);
            ModelConfig c = m.config();
            boolean student = m.has(MipflowModel.STUDENT_FILE);
            return new DecoderFacts(format, c.latentChannels(), c.downsample(), c.schedule(), student,
                    c.decoderWidths()[0],
                    new LatentSpec.Grid(c.latentChannels(), c.downsample(), 1 << (c.schedule().stages() - 1)),
                    Set.copyOf(SamplingMode.offered(student)), null, ScheduleConvention.NATIVE, null, m.files());
        }
        if (TorchScriptManifest.FORMAT.equals(format)) {
            TorchScriptManifest m = TorchScriptManifest.read(dir);
            LatentSpec l = m.latent() instanceof LatentSpec.Grid g
                    ? new LatentSpec.Grid(g.channels(), g.downsample(), 1 << (m.schedule().stages() - 1)) : m.latent();
            Set<SamplingMode> modes = EnumSet.noneOf(SamplingMode.class);
            modes.addAll(m.modes());
            if (!m.hasStudent()) {
                modes.remove(SamplingMode.ONESTEP);
            }
            return new DecoderFacts(format, m.latentChannels(), m.downsample(), m.schedule(), m.hasStudent(), 0, l,
                    Set.copyOf(modes), m.guidance(), m.convention(), m.memory(), m.files());
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
