package org.mipflow.model;

import java.io.Serializable;

/**
 * How many images a task decodes together: as many as keep one forward pass's working set within
 * {@code bytes}, at least 1 and at most {@code maxBatch}.
 *
 * <p>On a CPU the budget that matters is the cache, not the RAM. Measured on this project's 2-core
 * machine (shipped model, bf16/nhwc, one forward pass, FlowUNetTwin): 256 px ran at 8.0 images/s
 * in batches of 2 (48 MB working set) and 3.3 in batches of 8 (192 MB); 128 px was flat from 2 to 8
 * (up to 48 MB) and fell to 21 images/s at 16 (96 MB); 64 px kept gaining up to 16. Hence the CPU
 * default of 64 MiB per task. On a GPU the budget is a share of device memory.
 */
public record BatchBudget(long bytes, int maxBatch) implements Serializable {
    public static final long CPU_DEFAULT_BYTES = 64L << 20;
    public static final int DEFAULT_MAX_BATCH = 64;

    public BatchBudget {
        if (bytes <= 0 || maxBatch < 1) {
            throw new IllegalArgumentException("memory budget " + bytes + " bytes, max batch " + maxBatch);
        }
    }

    public static BatchBudget cpuDefault() {
        return new BatchBudget(CPU_DEFAULT_BYTES, DEFAULT_MAX_BATCH);
    }

    /** {@code fixed} rows when it is positive (the user's --batch-size), else {@link #batchFor(long)}. */
    public int batchFor(int fixed, long bytesPerImage) {
        return fixed > 0 ? fixed : batchFor(bytesPerImage);
    }

    public int batchFor(long bytesPerImage) {
        long n = bytes / Math.max(1, bytesPerImage);
        return (int) Math.max(1, Math.min(maxBatch, n));
    }

    /**
     * Peak bytes one image adds to a forward pass of the native decoder network at h x w, in
     * multiples of its first-level feature map (width w0 at full resolution). Measured with the
     * shipped model at 256 px (peak RSS growth per image over batches 4 to 16): native fp32/nchw
     * about 210 MB (DJL keeps every intermediate of a residual block until the block ends: 25 maps),
     * the TorchScript twin 48 MB in fp32 and 24 MB in bf16 (libtorch frees each intermediate after
     * its last use: 6 maps).
     */
    public static long nativeBytesPerImage(int firstWidth, NumericPath numerics, int h, int w) {
        long map = (long) firstWidth * h * w * (numerics.precision() == NumericPath.Precision.BF16 ? 2 : 4);
        return (numerics.isNative() ? 25 : 6) * map;
    }

    /**
     * An exported TorchScript network's architecture is unknown: assume 1 KiB per pixel (the native
     * network's fp32 figure is 3.2 KiB, its twin's 0.75); --batch-size overrides.
     */
    public static long torchScriptBytesPerImage(int h, int w) {
        return 1024L * h * w;
    }
}
