package org.mipflow.jobs.train;

import java.nio.file.Path;

/**
 * Settings of one teacher training run; all of them are recorded in the model's model.json.
 *
 * @param run what every training run has (photos, steps, batch, schedule, checkpoints, ...)
 * @param latentChannels channels of the encoder's latent grid; null: the --init model's, or 8 from
 *     the seed. More than the --init model has grows it (the added channels reach the decoder
 *     through input weights that start at zero).
 * @param stages pyramid stages K of the decoder
 * @param init a trained model directory whose encoder and teacher the run starts from (a new
 *     optimizer and learning-rate schedule), or null to start from the seed's initialisation
 * @param ssimWeight weight of 1 - SSIM between the clean image and the one-pass prediction of it,
 *     on the stage types that end at the clean image (the last pyramid stage and the full flow)
 * @param encoderBlocks residual blocks per encoder level; null: the --init model's, or 1 from the
 *     seed. More than the --init model has grows it (the added blocks start as the identity).
 * @param latentLevels decoder levels the latent enters; null: the --init model's, or 1 from the
 *     seed. More than the --init model has grows it (the added entries start at zero).
 * @param decoderWidths channels of the decoder's levels at full, 1/2 and 1/4 resolution; null: the
 *     --init model's, or 32, 64, 128 from the seed. Widths are set from the seed, never grown: an
 *     --init model of other widths is refused.
 */
public record TrainConfig(
        TrainingSettings run, Integer latentChannels, int stages, Path init, double ssimWeight, Integer encoderBlocks,
        Integer latentLevels, int[] decoderWidths) {
    public TrainConfig {
        decoderWidths = decoderWidths == null ? null : decoderWidths.clone();
    }

    public TrainConfig(TrainingSettings run, Integer latentChannels, int stages, Path init, double ssimWeight,
            Integer encoderBlocks, Integer latentLevels) {
        this(run, latentChannels, stages, init, ssimWeight, encoderBlocks, latentLevels, null);
    }

    public TrainConfig(TrainingSettings run, int latentChannels, int stages) {
        this(run, latentChannels, stages, null, 0, null, null);
    }

    public TrainConfig(TrainingSettings run, int latentChannels, int stages, Path init) {
        this(run, latentChannels, stages, init, 0, null, null);
    }

    public TrainConfig(TrainingSettings run, int latentChannels, int stages, Path init, double ssimWeight) {
        this(run, latentChannels, stages, init, ssimWeight, null, null);
    }

    @Override
    public int[] decoderWidths() {
        return decoderWidths == null ? null : decoderWidths.clone();
    }
}
