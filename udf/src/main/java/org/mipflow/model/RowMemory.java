package org.mipflow.model;

/**
 * A TorchScript decoder's measured activation memory per network row (model.json's "memory",
 * written by scripts/torch/row_memory.py from PyTorch's allocator accounting): {@code bytesPerRow}
 * more for each row of a call at {@code height} x {@code width}, beyond {@code fixedBytes}.
 */
public record RowMemory(long bytesPerRow, long fixedBytes, int height, int width) {
    public RowMemory {
        if (bytesPerRow < 1 || fixedBytes < 0 || height < 1 || width < 1) {
            throw new IllegalArgumentException("memory: bytesPerRow must be positive, fixedBytes at least 0, height "
                    + "and width positive: " + bytesPerRow + ", " + fixedBytes + ", " + height + ", " + width);
        }
    }
}
