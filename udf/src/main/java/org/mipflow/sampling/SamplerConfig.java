package org.mipflow.sampling;

import java.util.Arrays;

/**
 * @param mode sampling mode
 * @param fullSteps Euler steps of the {@code full} mode
 * @param stageSteps Euler steps per stage of the {@code multiscale} mode, coarsest first
 */
public record SamplerConfig(SamplingMode mode, int fullSteps, int[] stageSteps) implements java.io.Serializable {

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
    }

    public static SamplerConfig of(SamplingMode mode, int stages) {
        int[] steps = new int[stages];
        Arrays.fill(steps, DEFAULT_STAGE_STEPS);
        return new SamplerConfig(mode, DEFAULT_FULL_STEPS, steps);
    }

    @Override
    public int[] stageSteps() {
        return stageSteps.clone();
    }

    /** Forward passes of the network per image. */
    public int forwardPasses(int stages) {
        return switch (mode) {
            case FULL -> fullSteps;
            case ONESTEP -> stages;
            case MULTISCALE -> Arrays.stream(stageSteps).sum();
        };
    }
}
