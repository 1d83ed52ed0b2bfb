package org.mipflow.model;

import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.StageSchedule;

/**
 * Architecture of the tokenizer (encoder) and the flow decoder.
 *
 * @param latentChannels C, channels of the latent grid
 * @param downsample spatial factor between image and latent grid (8)
 * @param encoderWidth width of the encoder's first level (doubled once)
 * @param decoderWidths widths of the decoder UNet levels, finest first
 * @param timeFrequencies sinusoidal frequencies of the time features
 * @param embedDim width of the time/stage embedding
 * @param schedule the stage schedule the decoder was trained for
 */
public record ModelConfig(
        int latentChannels,
        int downsample,
        int encoderWidth,
        int[] decoderWidths,
        int timeFrequencies,
        int embedDim,
        StageSchedule schedule) {

    public static final ModelConfig DEFAULT =
            new ModelConfig(8, 8, 64, new int[] {32, 64, 128}, 16, 128, StageSchedule.DEFAULT);

    public ModelConfig {
        if (latentChannels < 1 || latentChannels > 64) {
            throw new IllegalArgumentException("latent channels must be in 1..64");
        }
        if (downsample != 8) {
            throw new IllegalArgumentException("only 8x downsampling is implemented");
        }
        if (decoderWidths.length != 3) {
            throw new IllegalArgumentException("the decoder has exactly three levels");
        }
        decoderWidths = decoderWidths.clone();
    }

    @Override
    public int[] decoderWidths() {
        return decoderWidths.clone();
    }

    /** Stage types the decoder knows: the K pyramid stages plus the single full-resolution flow. */
    public int stageTypes() {
        return fullStageType() + 1;
    }

    /** Index of the single-stage, full-resolution flow among the stage types. */
    public int fullStageType() {
        return new FlowScheduler(schedule).fullFlow();
    }

    public int timeFeatureDim() {
        return 2 * timeFrequencies + stageTypes();
    }

    /** Smallest image side the model can decode: every stage must keep an even, latent-aligned grid. */
    public int sideMultiple() {
        return downsample << (schedule.stages() - 1);
    }
}
