package org.mipflow.io;

import java.io.Serializable;

/**
 * Limits checked on every row before anything is allocated from its declared sizes.
 *
 * @param maxLatentSide largest latent height or width
 * @param maxReferenceBytes largest reference image file
 * @param maxReferencePixels largest declared reference size (decompression bombs)
 */
public record RowLimits(int maxLatentSide, long maxReferenceBytes, long maxReferencePixels) implements Serializable {
    public static final RowLimits DEFAULT = new RowLimits(256, 64L << 20, ImageCodec.DEFAULT_MAX_PIXELS);
}
