package org.mipflow.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.junit.jupiter.api.Test;

class ResampleTest {
    @Test
    void downAveragesBlocksAndUpRepeats() {
        float[] in = {1, 3, 5, 7, 1, 3, 5, 7, 0, 0, 2, 2, 0, 0, 2, 2};
        float[] down = Resample.down2(in, 1, 4, 4);
        assertArrayEquals(new float[] {2, 6, 0, 2}, down);
        float[] up = Resample.nearestUp2(down, 1, 2, 2);
        assertArrayEquals(new float[] {2, 2, 6, 6, 2, 2, 6, 6, 0, 0, 2, 2, 0, 0, 2, 2}, up);
        assertArrayEquals(down, Resample.down2(up, 1, 4, 4));
    }
}
