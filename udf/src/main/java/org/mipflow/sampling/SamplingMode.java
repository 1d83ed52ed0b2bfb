package org.mipflow.sampling;

import java.util.Locale;

/** How an image is decoded from its latent. */
public enum SamplingMode {
    /** One flow at full resolution, many Euler steps of the teacher: the quality baseline. */
    FULL,
    /** K stages from coarse to fine, a few Euler steps of the teacher in each. */
    MULTISCALE,
    /** K stages, one step of the distilled student in each. */
    ONESTEP;

    public static SamplingMode parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown mode '" + s + "' (full, multiscale or onestep)");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
