package org.mipflow.model;

/**
 * The one estimate of the memory a row adds to a network call at h x w: what the memory budget
 * divides ({@link org.mipflow.sampling.Batching}). Loaded models and the driver's
 * {@link DecoderFacts} both ask here.
 */
public final class RowBytes {
    private RowBytes() {}

    /**
     * Peak bytes of one row in a call of the native decoder network, in multiples of its
     * first-level feature map (width {@code firstWidth} at full resolution). Measured with the
     * shipped model at 256 px (peak RSS growth per row over calls of 4 to 16 rows): native
     * fp32/nchw about 210 MB (DJL keeps every intermediate of a residual block until the block
     * ends: 25 maps), the TorchScript twin 48 MB in fp32 and 24 MB in bf16 (libtorch frees each
     * intermediate after its last use: 6 maps).
     */
    public static long nativeNetwork(int firstWidth, NumericPath numerics, int h, int w) {
        long map = (long) firstWidth * h * w * (numerics.precision() == NumericPath.Precision.BF16 ? 2 : 4);
        return (numerics.isNative() ? 25 : 6) * map;
    }

    /**
     * An exported TorchScript network's architecture is unknown: 1 KiB per pixel (the native
     * network's fp32 figure is 3.2 KiB, its twin's 0.75). A set rows-per-call overrides.
     */
    public static long torchScript(int h, int w) {
        return 1024L * h * w;
    }
}
