package org.mipflow.sampling;

import java.util.ArrayList;
import java.util.Collection;
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

    /** What "auto" means for a model that states no modes (a native one): the fastest it has. */
    public static SamplingMode auto(boolean hasStudent) {
        return auto(offered(hasStudent));
    }

    /**
     * What "auto" means, everywhere: the fastest of the modes a model was trained for (onestep,
     * then multiscale, then full), so a model that declares only full is decoded in full.
     */
    public static SamplingMode auto(Collection<SamplingMode> modes) {
        for (SamplingMode m : List.of(ONESTEP, MULTISCALE, FULL)) {
            if (modes.contains(m)) {
                return m;
            }
        }
        throw new IllegalArgumentException("the model declares no sampling mode");
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

    /** {@link #parse}, with "auto" resolved among the modes a model was trained for. */
    public static SamplingMode parse(String s, Collection<SamplingMode> modes) {
        if (AUTO.equals(s.trim().toLowerCase(Locale.ROOT))) {
            return auto(modes);
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
