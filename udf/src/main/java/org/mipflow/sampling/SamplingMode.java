package org.mipflow.sampling;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How an image is decoded from its latent: the one table of modes (name, what it needs, forward
 * passes through {@link SamplerConfig#forwardPasses}), and the one rule for "auto".
 */
public enum SamplingMode {
    /** One flow at full resolution, many Euler steps of the teacher: the quality baseline. */
    FULL(false),
    /** K stages from coarse to fine, a few Euler steps of the teacher in each. */
    MULTISCALE(false),
    /** K stages, one step of the distilled student in each. */
    ONESTEP(true);

    /** The word that asks for {@link #auto}. */
    public static final String AUTO = "auto";

    private final boolean needsStudent;

    SamplingMode(boolean needsStudent) {
        this.needsStudent = needsStudent;
    }

    /** Whether the mode runs the one-step student (a model without one cannot run it). */
    public boolean needsStudent() {
        return needsStudent;
    }

    /** What "auto" means, everywhere: the fastest mode the model has. */
    public static SamplingMode auto(boolean hasStudent) {
        return hasStudent ? ONESTEP : MULTISCALE;
    }

    /** The modes a model offers, in display order (full, the baseline, first). */
    public static List<SamplingMode> offered(boolean hasStudent) {
        List<SamplingMode> m = new ArrayList<>();
        for (SamplingMode mode : values()) {
            if (!mode.needsStudent || hasStudent) {
                m.add(mode);
            }
        }
        return m;
    }

    public static SamplingMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown mode '" + s + "' (full, multiscale or onestep)");
        }
    }

    /** {@link #parse}, with "auto" resolved for a model with or without a student. */
    public static SamplingMode parse(String s, boolean hasStudent) {
        if (AUTO.equals(s.trim().toLowerCase(Locale.ROOT))) {
            return auto(hasStudent);
        }
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown mode '" + s + "' (full, multiscale, onestep or auto)");
        }
    }

    /**
     * This mode, if a model with or without a student can run it.
     *
     * @throws IllegalArgumentException naming the model and what to do instead
     */
    public SamplingMode checkedFor(String model, boolean hasStudent) {
        if (needsStudent && !hasStudent) {
            throw new IllegalArgumentException("model " + model + " has no one-step student; use --mode multiscale "
                    + "or auto (a native Mipflow model gets a student from 'mipflow distill'; a TorchScript one "
                    + "only from its exporter)");
        }
        return this;
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
