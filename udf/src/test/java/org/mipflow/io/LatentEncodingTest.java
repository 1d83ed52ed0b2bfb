package org.mipflow.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LatentEncodingTest {
    /** Bytes numpy writes: np.array([1.0, -2.5, 65504, 6.1035156e-05, 5.9604645e-08], '<f2').tobytes(). */
    @Test
    void float16MatchesNumpyBytes() {
        byte[] numpy = {0x00, 0x3c, 0x00, (byte) 0xc1, (byte) 0xff, 0x7b, 0x00, 0x04, 0x01, 0x00};
        float[] values = {1.0f, -2.5f, 65504f, 6.1035156e-05f, 5.9604645e-08f};
        assertArrayEquals(values, LatentEncoding.FLOAT16.decode(numpy));
        assertArrayEquals(numpy, LatentEncoding.FLOAT16.encode(values));
    }

    /** torch.tensor([1.0, -2.5, 3.140625], dtype=torch.bfloat16) storage bytes, little-endian. */
    @Test
    void bfloat16MatchesTorchBytes() {
        byte[] torch = {(byte) 0x80, 0x3f, 0x20, (byte) 0xc0, 0x49, 0x40};
        float[] values = {1.0f, -2.5f, 3.140625f};
        assertArrayEquals(values, LatentEncoding.BFLOAT16.decode(torch));
        assertArrayEquals(torch, LatentEncoding.BFLOAT16.encode(values));
    }

    /** Every half value survives half -> float -> half; rounding is to nearest even. */
    @Test
    void halfConversionIsExactAndRoundsToNearestEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = LatentEncoding.halfToFloat(h);
            if (Float.isNaN(f)) {
                assertTrue(Float.isNaN(LatentEncoding.halfToFloat(LatentEncoding.floatToHalf(f))));
            } else {
                assertEquals(h, LatentEncoding.floatToHalf(f), "half " + Integer.toHexString(h));
            }
        }
        // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to even (1).
        assertEquals(0x3c00, LatentEncoding.floatToHalf(1f + 0x1p-11f));
        assertEquals(0x3c02, LatentEncoding.floatToHalf(1f + 3 * 0x1p-11f));
        assertEquals(0x7c00, LatentEncoding.floatToHalf(70000f));
    }

    @Test
    void roundTripErrorIsWithinHalfAnUlp() {
        SplittableRandom r = new SplittableRandom(3);
        float[] v = new float[4096];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * 3);
        }
        assertArrayEquals(v, LatentEncoding.FLOAT32.decode(LatentEncoding.FLOAT32.encode(v)));
        float[] h = LatentEncoding.FLOAT16.decode(LatentEncoding.FLOAT16.encode(v));
        float[] b = LatentEncoding.BFLOAT16.decode(LatentEncoding.BFLOAT16.encode(v));
        for (int i = 0; i < v.length; i++) {
            assertTrue(Math.abs(h[i] - v[i]) <= Math.abs(v[i]) * 0x1p-11f + 0x1p-25f, "float16 " + v[i]);
            assertTrue(Math.abs(b[i] - v[i]) <= Math.abs(v[i]) * 0x1p-8f, "bfloat16 " + v[i]);
        }
    }

    @Test
    void refusesBadLengthsAndNames() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> LatentEncoding.FLOAT16.decode(new byte[3]));
        assertTrue(e.getMessage().contains("not a multiple of 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LatentEncoding.parse("int8"));
        assertEquals(LatentEncoding.BFLOAT16, LatentEncoding.parse("bf16"));
    }
}
