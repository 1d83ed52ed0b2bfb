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
     * An exported TorchScript network: its measured figure (model.json "memory", PyTorch's
     * allocator peak per row at the export's size) scaled to h x w, or, without one, the
     * conservative rule {@link #UNMEASURED_PER_PIXEL} per pixel. Scaled by the pixel ratio r:
     * linearly below the measured size (convolutions are linear in pixels; attention, quadratic,
     * shrinks faster, so linear over-states it: safe), by r squared above it (attention's score
     * matrices grow with the square of the patch count; a convolutional net is over-stated: safe).
     * A set rows-per-call overrides.
     */
    public static long torchScript(RowMemory measured, int h, int w) {
        double px = (double) h * w;
        if (measured == null) {
            double r = Math.max(1, px / UNMEASURED_LINEAR_PIXELS);
            return (long) Math.ceil(UNMEASURED_PER_PIXEL * px * r);
        }
        double r = px / ((double) measured.height() * measured.width());
        return (long) Math.ceil(measured.bytesPerRow() * (r <= 1 ? r : r * r));
    }

    /**
     * Without a measured figure: 4 KiB per pixel, above every decoder measured here (native fp32
     * network 3.2 KiB, the fixture 0.38 KiB, the token fixture 0.30 KiB at 64 px)...
     */
    public static final long UNMEASURED_PER_PIXEL = 4096;
    /** ...up to 256 x 256, and growing with the square of the pixel count above (attention). */
    public static final long UNMEASURED_LINEAR_PIXELS = 256L * 256;
}
