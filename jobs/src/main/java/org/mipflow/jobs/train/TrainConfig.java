package org.mipflow.jobs.train;

import java.nio.file.Path;

/**
 * Settings of one teacher training run; all of them are recorded in the model's model.json.
 *
 * @param run what every training run has (photos, steps, batch, schedule, checkpoints, ...)
 * @param latentChannels channels of the encoder's latent grid
 * @param stages pyramid stages K of the decoder
 * @param init a trained model directory whose encoder and teacher the run starts from (a new
 *     optimizer and learning-rate schedule), or null to start from the seed's initialisation
 */
public record TrainConfig(TrainingSettings run, int latentChannels, int stages, Path init) {
    public TrainConfig(TrainingSettings run, int latentChannels, int stages) {
        this(run, latentChannels, stages, null);
    }
}
