package org.mipflow.sampling;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mipflow.schedule.FlowScheduler;

/**
 * @param mode sampling mode
 * @param fullSteps Euler steps of the {@code full} mode
 * @param stageSteps Euler steps per stage of the {@code multiscale} mode, coarsest first
 * @param cfgScale classifier-free guidance scale W, or NaN for the model's own default (1, none,
 *     for a model without a null condition)
 */
public record SamplerConfig(SamplingMode mode, int fullSteps, int[] stageSteps, double cfgScale)
        implements java.io.Serializable {

    /** Without a guidance scale of its own: the model's default. */
    public SamplerConfig(SamplingMode mode, int fullSteps, int[] stageSteps) {
        this(mode, fullSteps, stageSteps, Double.NaN);
    }

    public static final int DEFAULT_FULL_STEPS = 50;
    public static final int DEFAULT_STAGE_STEPS = 10;

    public SamplerConfig {
        if (fullSteps < 1) {
            throw new IllegalArgumentException("full steps must be at least 1");
        }
        for (int s : stageSteps) {
            if (s < 1) {
                throw new IllegalArgumentException("every stage needs at least one step");
            }
        }
        stageSteps = stageSteps.clone();
        if (!Double.isNaN(cfgScale) && !(cfgScale >= 0 && cfgScale <= 100)) {
            throw new IllegalArgumentException("the guidance scale must be in [0, 100], got " + cfgScale);
        }
    }

    /** The same, guided with scale {@code w} (NaN: the model's default). */
    public SamplerConfig withCfgScale(double w) {
        return new SamplerConfig(mode, fullSteps, stageSteps, w);
    }

    /** The scale W a model with {@code guidance} (null: none) decodes with. */
    public double cfgScaleFor(Guidance guidance) {
        if (!Double.isNaN(cfgScale)) {
            return cfgScale;
        }
        return guidance == null ? 1.0 : guidance.scale();
    }

    public static SamplerConfig of(SamplingMode mode, int stages) {
        int[] steps = new int[stages];
        Arrays.fill(steps, DEFAULT_STAGE_STEPS);
        return new SamplerConfig(mode, DEFAULT_FULL_STEPS, steps);
    }

    /**
     * From the command line's or the Transformer's words: {@code stageSteps} is one count for
     * every stage or one per stage, comma-separated.
     *
     * @throws IllegalArgumentException with the reason, worded for the user
     */
    public static SamplerConfig parse(SamplingMode m, int fullSteps, String stageSteps, int stages) {
        String[] parts = stageSteps.split(",");
        if (parts.length != 1 && parts.length != stages) {
            throw new IllegalArgumentException("--stage-steps needs 1 or " + stages + " values, got " + parts.length);
        }
        int[] steps = new int[stages];
        for (int i = 0; i < stages; i++) {
            String p = parts.length == 1 ? parts[0] : parts[i];
            try {
                steps[i] = Integer.parseInt(p.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--stage-steps needs integers, got '" + p + "'");
            }
            if (steps[i] < 1 || steps[i] > 1000) {
                throw new IllegalArgumentException("--stage-steps values must be in 1..1000");
            }
        }
        if (fullSteps < 1 || fullSteps > 1000) {
            throw new IllegalArgumentException("--steps must be in 1..1000");
        }
        return new SamplerConfig(m, fullSteps, steps);
    }

    /** The same steps in another mode. */
    public SamplerConfig withMode(SamplingMode m) {
        return new SamplerConfig(m, fullSteps, stageSteps, cfgScale);
    }

    /**
     * The table of modes a model offers, in display order, each with these steps: full (the
     * quality baseline), multiscale, and onestep where the model has a student. Keyed by label.
     */
    public Map<String, SamplerConfig> everyMode(boolean hasStudent) {
        Map<String, SamplerConfig> m = new LinkedHashMap<>();
        for (SamplingMode mode : SamplingMode.offered(hasStudent)) {
            m.put(mode.label(), withMode(mode));
        }
        return m;
    }

    @Override
    public int[] stageSteps() {
        return stageSteps.clone();
    }

    /** Forward passes of the network per image: the Euler steps, each one call that holds the image's rows. */
    public int forwardPasses(int stages) {
        return switch (mode) {
            case FULL -> fullSteps;
            case ONESTEP -> stages;
            case MULTISCALE -> Arrays.stream(stageSteps).sum();
        };
    }

    /**
     * The step grids of a decode in this mode, in the order they run: the full-resolution flow's,
     * or one per pyramid stage (one step each in onestep).
     */
    public List<FlowScheduler.Grid> grids(FlowScheduler sch) {
        int k = sch.schedule().stages();
        if (mode == SamplingMode.FULL) {
            return List.of(sch.grid(sch.fullFlow(), fullSteps));
        }
        if (mode == SamplingMode.MULTISCALE && stageSteps.length != k) {
            throw new IllegalArgumentException("the model has " + k + " stages but " + stageSteps.length
                    + " stage step counts were given");
        }
        List<FlowScheduler.Grid> g = new ArrayList<>();
        for (int stage = 0; stage < k; stage++) {
            g.add(sch.grid(stage, mode == SamplingMode.ONESTEP ? 1 : stageSteps[stage]));
        }
        return g;
    }

    /**
     * Rows the network computes per image: one per step, and two at a step that guidance covers
     * (the image and its unconditional twin, in the same call), so with W = 2 over the whole
     * interval twice the forward passes. Padding rows of a short call are not counted.
     *
     * @param guidance the model's guidance, or null
     */
    public int networkRows(FlowScheduler sch, Guidance guidance) {
        double w = cfgScaleFor(guidance);
        int rows = 0;
        for (FlowScheduler.Grid g : grids(sch)) {
            for (double t : g.t()) {
                rows += guidance != null && guidance.applies(w, t) ? 2 : 1;
            }
        }
        return rows;
    }
}
