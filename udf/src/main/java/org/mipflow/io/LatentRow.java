package org.mipflow.io;

/**
 * One input row of the decode contract, after it was read from Parquet.
 *
 * @param latent C*H*W values, channel-major
 * @param reference the original image (PNG or JPEG) or null
 */
public record LatentRow(String id, float[] latent, int channels, int height, int width, byte[] reference) {}
