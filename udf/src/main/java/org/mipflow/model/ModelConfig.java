package org.mipflow.model;

import java.util.Arrays;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.StageSchedule;

/**
 * Architecture of the tokenizer (encoder) and the flow decoder.
 *
 * @param latentChannels C, channels of the latent grid
 * @param downsample spatial factor between image and latent grid (8)
 * @param encoderWidth width of the encoder's first level (doubled once)
 * @param encoderBlocks residual blocks at each of the encoder's three levels (1 in every model
 *     before encoderBlocks was recorded)
 * @param decoderWidths widths of the decoder UNet levels, finest first
 * @param latentLevels decoder levels the latent enters, finest first: 1, the input only (every
 *     model before latentLevels was recorded); 2 and 3 add it, through its own convolution, at the
 *     1/2- and then the 1/4-resolution level as well
 * @param timeFrequencies sinusoidal frequencies of the time features
 * @param embedDim width of the time/stage embedding
 * @param schedule the stage schedule the decoder was trained for
 */
public record ModelConfig(
        int latentChannels,
        int downsample,
        int encoderWidth,
        int encoderBlocks,
        int[] decoderWidths,
        int latentLevels,
        int timeFrequencies,
        int embedDim,
        StageSchedule schedule) {

    public static final ModelConfig DEFAULT =
            new ModelConfig(8, 8, 64, 1, new int[] {32, 64, 128}, 1, 16, 128, StageSchedule.DEFAULT);

    public ModelConfig {
        if (latentChannels < 1 || latentChannels > 64) {
            throw new IllegalArgumentException("latent channels must be in 1..64");
        }
        if (downsample != 8) {
            throw new IllegalArgumentException("only 8x downsampling is implemented");
        }
        if (encoderBlocks < 1 || encoderBlocks > 8) {
            throw new IllegalArgumentException("encoder blocks per level must be in 1..8");
        }
        if (decoderWidths.length != 3) {
            throw new IllegalArgumentException("the decoder has exactly three levels");
        }
        if (latentLevels < 1 || latentLevels > decoderWidths.length) {
            throw new IllegalArgumentException("the latent enters 1 to " + decoderWidths.length + " decoder levels");
        }
        decoderWidths = decoderWidths.clone();
    }

    @Override
    public int[] decoderWidths() {
        return decoderWidths.clone();
    }

    /** The same architecture with a latent of {@code c} channels. */
    public ModelConfig withLatentChannels(int c) {
        return new ModelConfig(c, downsample, encoderWidth, encoderBlocks, decoderWidths, latentLevels,
                timeFrequencies, embedDim, schedule);
    }

    /** The same architecture with {@code n} residual blocks at each encoder level. */
    public ModelConfig withEncoderBlocks(int n) {
        return new ModelConfig(latentChannels, downsample, encoderWidth, n, decoderWidths, latentLevels,
                timeFrequencies, embedDim, schedule);
    }

    /** The same architecture with the latent entering the first {@code n} decoder levels. */
    public ModelConfig withLatentLevels(int n) {
        return new ModelConfig(latentChannels, downsample, encoderWidth, encoderBlocks, decoderWidths, n,
                timeFrequencies, embedDim, schedule);
    }

    /**
     * Whether a model of {@code from}'s architecture can be grown into this one
     * ({@link MipflowModel#grownFrom}): the same but for as many or more latent channels, encoder
     * blocks and latent levels, whose added parts start out adding nothing.
     */
    public boolean grows(ModelConfig from) {
        return latentChannels >= from.latentChannels && encoderBlocks >= from.encoderBlocks
                && latentLevels >= from.latentLevels
                && withLatentChannels(from.latentChannels).withEncoderBlocks(from.encoderBlocks)
                        .withLatentLevels(from.latentLevels).sameArchitecture(from);
    }

    /** Field by field, the widths by value (a record's equals compares arrays by identity). */
    public boolean sameArchitecture(ModelConfig o) {
        return latentChannels == o.latentChannels && downsample == o.downsample && encoderWidth == o.encoderWidth
                && encoderBlocks == o.encoderBlocks && Arrays.equals(decoderWidths, o.decoderWidths)
                && latentLevels == o.latentLevels
                && timeFrequencies == o.timeFrequencies && embedDim == o.embedDim && schedule.equals(o.schedule);
    }

    /** One line for messages: what {@link #sameArchitecture} compares. */
    public String summary() {
        return "latent channels " + latentChannels + ", encoder width " + encoderWidth + " with " + encoderBlocks
                + " block(s) per level, decoder widths " + Arrays.toString(decoderWidths) + " with the latent at "
                + latentLevels + " level(s), time frequencies "
                + timeFrequencies + ", embedding " + embedDim + ", " + schedule.stages() + " stages (gamma "
                + schedule.gamma() + ")";
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
