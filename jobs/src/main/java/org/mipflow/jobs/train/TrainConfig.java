package org.mipflow.jobs.train;

/**
 * Settings of one teacher training run; all of them are recorded in the model's model.json.
 *
 * @param run what every training run has (photos, steps, batch, schedule, checkpoints, ...)
 * @param latentChannels channels of the encoder's latent grid
 * @param stages pyramid stages K of the decoder
 */
public record TrainConfig(TrainingSettings run, int latentChannels, int stages) {}
