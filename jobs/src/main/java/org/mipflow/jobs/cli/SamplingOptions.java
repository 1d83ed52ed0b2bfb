package org.mipflow.jobs.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/**
 * {@code --mode}, {@code --steps}, {@code --stage-steps}, {@code --cfg-scale}: which sampler,
 * with how many Euler steps, how strongly guided.
 *
 * @param mode the --mode given, or null (the command's default then applies)
 * @param stageSteps one count for every stage or one per stage, comma-separated, as typed
 * @param cfgScale the guidance scale W, or NaN for the model's default
 */
public record SamplingOptions(String mode, int fullSteps, String stageSteps, double cfgScale) {

    /** @param modeHelp the help of --mode, or null for commands that run every mode (no --mode) */
    public static List<Options.Spec> specs(String modeHelp) {
        List<Options.Spec> s = new ArrayList<>();
        if (modeHelp != null) {
            s.add(Options.Spec.value("mode", "MODE", null, modeHelp));
        }
        s.add(Options.Spec.value("steps", "N", Integer.toString(SamplerConfig.DEFAULT_FULL_STEPS),
                "Euler steps of mode full"));
        s.add(Options.Spec.value("stage-steps", "N[,N...]", Integer.toString(SamplerConfig.DEFAULT_STAGE_STEPS),
                "Euler steps per stage of mode multiscale (one value for all, or one per stage)"));
        s.add(Options.Spec.value("cfg-scale", "W", "model", "classifier-free guidance scale (models with a null "
                + "condition; 1 or less: unguided); model: the model's own default"));
        return s;
    }

    public static SamplingOptions parse(Options o) throws UsageException {
        String w = o.get("cfg-scale");
        double cfg = Double.NaN;
        if (!"model".equals(w)) {
            try {
                cfg = Double.parseDouble(w);
            } catch (NumberFormatException e) {
                throw new UsageException("--cfg-scale takes a number or 'model', not '" + w + "'");
            }
            if (!(cfg >= 0 && cfg <= 100)) {
                throw new UsageException("--cfg-scale must be in [0, 100], is " + w);
            }
        }
        return new SamplingOptions(o.has("mode") ? o.get("mode") : null, o.getInt("steps", 1, 1000),
                o.get("stage-steps"), cfg);
    }

    /**
     * The sampler for a model with {@code stages} stages, in --mode (default and "auto": the
     * fastest of the modes it was trained for), refused with one line when the model cannot run it.
     */
    public SamplerConfig config(int stages, boolean hasStudent, Set<SamplingMode> modes, String model)
            throws UsageException {
        try {
            SamplingMode m = mode == null ? SamplingMode.auto(modes) : SamplingMode.parse(mode, modes);
            return SamplerConfig.parse(m.checkedFor(model, hasStudent), fullSteps, stageSteps, stages)
                    .withCfgScale(cfgScale);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Every mode the model offers with these steps (see {@link SamplerConfig#everyMode}). */
    public Map<String, SamplerConfig> everyMode(int stages, boolean hasStudent) throws UsageException {
        try {
            return SamplerConfig.parse(SamplingMode.FULL, fullSteps, stageSteps, stages).withCfgScale(cfgScale)
                    .everyMode(hasStudent);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
