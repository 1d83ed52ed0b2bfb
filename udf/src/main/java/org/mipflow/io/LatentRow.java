package org.mipflow.io;

/**
 * One input row of the decode contract, validated.
 *
 * @param latent C*H*W values, channel-major
 * @param reference the original image as planar RGB [3, 8H, 8W] in [-1,1], or null
 */
public record LatentRow(String id, float[] latent, int channels, int height, int width, float[] reference) {}
