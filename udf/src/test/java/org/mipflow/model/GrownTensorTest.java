package org.mipflow.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class GrownTensorTest {
    @Test
    void oldOutputsGetZeroForAddedInputsAndAddedOutputsKeepTheirStart() {
        // [out=2, in=2] grown to [out=3, in=3]
        float[] trained = {1, 2, 3, 4};
        float[] fresh = {9, 9, 9, 9, 9, 9, 7, 8, 6};
        float[] grown = GrownTensor.embed(trained, new long[] {2, 2}, fresh, new long[] {3, 3});
        assertArrayEquals(new float[] {1, 2, 0, 3, 4, 0, 7, 8, 6}, grown);
        assertArrayEquals(new float[] {9, 9, 9, 9, 9, 9, 7, 8, 6}, fresh, "the fresh values are not modified");
    }

    @Test
    void aConvolutionGrowsAlongItsInputsWithTheKernelKept() {
        // [out=1, in=1, 1, 2] grown to [out=1, in=2, 1, 2]: the added input's kernel is zero
        float[] grown = GrownTensor.embed(new float[] {5, 6}, new long[] {1, 1, 1, 2}, new float[] {1, 1, 1, 1},
                new long[] {1, 2, 1, 2});
        assertArrayEquals(new float[] {5, 6, 0, 0}, grown);
        // a bias [2] grown to [3]: the added output keeps its start
        assertArrayEquals(new float[] {5, 6, 0.5f},
                GrownTensor.embed(new float[] {5, 6}, new long[] {2}, new float[] {0, 0, 0.5f}, new long[] {3}));
    }

    @Test
    void refusesToShrinkOrChangeRank() {
        assertThrows(IllegalArgumentException.class,
                () -> GrownTensor.embed(new float[4], new long[] {2, 2}, new float[2], new long[] {1, 2}));
        assertThrows(IllegalArgumentException.class,
                () -> GrownTensor.embed(new float[4], new long[] {2, 2}, new float[4], new long[] {4}));
        assertThrows(IllegalArgumentException.class,
                () -> GrownTensor.embed(new float[3], new long[] {2, 2}, new float[4], new long[] {2, 2}));
    }
}
