package org.mipflow.schedule;

import java.util.List;
import java.util.Locale;

/**
 * How a decoder was trained to be stepped, beyond its stage windows: what time the network is
 * given, in what unit its velocity is, on which grid a stage is integrated, and the sign of the
 * jump's block-noise correlation. Mipflow's own models and today's TorchScript exports use the
 * defaults; a decoder trained with the method's authors' code states theirs in model.json
 * (docs/own-decoder.md). Pure values.
 *
 * @param timeWindows per pyramid stage [tau_max, tau_min] of {@link NetworkTime#WINDOWS}; empty otherwise
 * @param gridEnd the last local time of {@link StepGrid#AUTHORS}'s linspace before the final step to 0
 */
public record ScheduleConvention(NetworkTime networkTime, List<List<Double>> timeWindows, VelocityUnit velocity,
        StepGrid grid, double gridEnd, Renoise renoise) {

    /** Mipflow's native models: physical time, stage-local velocity, uniform grid, negative correlation. */
    public static final ScheduleConvention NATIVE = new ScheduleConvention(NetworkTime.PHYSICAL, List.of(),
            VelocityUnit.STAGE_LOCAL, StepGrid.UNIFORM, 0.0, Renoise.NEGATIVE);

    /** TorchScript exports that state nothing: as native, but the network's velocity is dx/dt. */
    public static final ScheduleConvention TORCHSCRIPT_DEFAULT = new ScheduleConvention(NetworkTime.PHYSICAL,
            List.of(), VelocityUnit.GLOBAL, StepGrid.UNIFORM, 0.0, Renoise.NEGATIVE);

    /** The time the network is given at a step. */
    public enum NetworkTime {
        /** The physical noise level t of the state (the stage's window of [1, 0]). */
        PHYSICAL,
        /** A re-parameterised time laid out per stage in {@code timeWindows} (the authors' timesteps / 1000). */
        WINDOWS;
    }

    /** What the network's output is the derivative with respect to. */
    public enum VelocityUnit {
        /** dx/dt, t the global flow time: Mipflow scales it by the stage's span s_k - e_k. */
        GLOBAL,
        /** dx/du, u the stage's local time (x_start_noisy - x_end_noisy): used as it is. */
        STAGE_LOCAL;
    }

    /** Where in a stage's local time u (1 to 0) the N steps evaluate the network. */
    public enum StepGrid {
        /** u_i = 1 - i/N, each step 1/N long. */
        UNIFORM,
        /** u_i = linspace(1, gridEnd, N)[i], the last step from gridEnd to 0; the network time linspace'd alike. */
        AUTHORS;
    }

    /** The off-diagonal sign of the jump's 2x2 block-noise covariance. */
    public enum Renoise {
        /** (1 + gamma) I - gamma J: cancels the correlation nearest upsampling leaves (Mipflow's, see BlockNoise). */
        NEGATIVE,
        /** (1 - gamma) I + gamma J: the method's authors' code. */
        POSITIVE;
    }

    public ScheduleConvention {
        timeWindows = timeWindows.stream().map(List::copyOf).toList();
        if (networkTime == NetworkTime.WINDOWS && timeWindows.isEmpty()) {
            throw new IllegalArgumentException("networkTime windows needs timeWindows");
        }
        if (!(gridEnd >= 0 && gridEnd < 1)) {
            throw new IllegalArgumentException("gridEnd must be in [0, 1), is " + gridEnd);
        }
        for (List<Double> w : timeWindows) {
            if (w.size() != 2) {
                throw new IllegalArgumentException("each time window is [tau_max, tau_min], got " + w);
            }
        }
    }

    /** The enum constant named by a model.json word ("stage-local", "authors"), or why not. */
    public static <E extends Enum<E>> E parse(Class<E> type, String field, String word) {
        for (E e : type.getEnumConstants()) {
            if (e.name().replace('_', '-').equalsIgnoreCase(word)) {
                return e;
            }
        }
        StringBuilder known = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            known.append(known.length() == 0 ? "" : ", ").append(label(e));
        }
        throw new IllegalArgumentException(field + " '" + word + "' is not one of " + known);
    }

    /** "stage-local": the model.json word of a constant. */
    public static String label(Enum<?> e) {
        return e.name().replace('_', '-').toLowerCase(Locale.ROOT);
    }
}
