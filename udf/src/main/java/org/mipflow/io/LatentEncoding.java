package org.mipflow.io;

import java.util.Locale;

/**
 * How a latent's values are stored in a BINARY column: little-endian float16 (IEEE half),
 * bfloat16 (the top 16 bits of a float32) or float32, channel-major. This is what
 * {@code numpy.astype(np.float16).tobytes()} or a PyTorch tensor's storage bytes give on every
 * common machine, and at 2 bytes per value it is half of ARRAY&lt;FLOAT&gt; before Parquet's list
 * levels are counted.
 */
public enum LatentEncoding {
    FLOAT16(2),
    BFLOAT16(2),
    FLOAT32(4);

    private final int bytes;

    LatentEncoding(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per value. */
    public int bytes() {
        return bytes;
    }

    /** The name used in {@code latent_dtype} columns and options. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * @throws IllegalArgumentException naming the accepted values
     */
    public static LatentEncoding parse(String s) {
        if (s != null) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "float16", "fp16", "half" -> {
                    return FLOAT16;
                }
                case "bfloat16", "bf16" -> {
                    return BFLOAT16;
                }
                case "float32", "fp32", "float" -> {
                    return FLOAT32;
                }
                default -> {
                }
            }
        }
        throw new IllegalArgumentException("latent dtype '" + s + "' is not one of float16, bfloat16, float32");
    }

    /**
     * The values of {@code data}; the caller checks the count against the latent's shape.
     *
     * @throws IllegalArgumentException when the byte length is not a whole number of values
     */
    public float[] decode(byte[] data) {
        if (data.length % bytes != 0) {
            throw new IllegalArgumentException("latent has " + data.length + " bytes, not a multiple of " + bytes
                    + " (" + label() + ")");
        }
        float[] out = new float[data.length / bytes];
        for (int i = 0; i < out.length; i++) {
            int o = i * bytes;
            int lo16 = (data[o] & 0xff) | (data[o + 1] & 0xff) << 8;
            out[i] = switch (this) {
                case FLOAT16 -> halfToFloat(lo16);
                case BFLOAT16 -> Float.intBitsToFloat(lo16 << 16);
                case FLOAT32 -> Float.intBitsToFloat(lo16 | (data[o + 2] & 0xff) << 16 | (data[o + 3] & 0xff) << 24);
            };
        }
        return out;
    }

    /**
     * Encodes {@code values}; float16 and bfloat16 round to nearest even, as numpy and PyTorch do.
     * A finite value beyond float16's range becomes infinity there, which decoding then refuses.
     */
    public byte[] encode(float[] values) {
        byte[] out = new byte[values.length * bytes];
        for (int i = 0; i < values.length; i++) {
            int o = i * bytes;
            int v = switch (this) {
                case FLOAT16 -> floatToHalf(values[i]);
                case BFLOAT16 -> toBfloat16(values[i]);
                case FLOAT32 -> Float.floatToRawIntBits(values[i]);
            };
            for (int b = 0; b < bytes; b++) {
                out[o + b] = (byte) (v >>> (8 * b));
            }
        }
        return out;
    }

    private static int toBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (bits >>> 16 | 0x40) & 0xffff;
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return ((bits + roundingBias) >>> 16) & 0xffff;
    }

    /** IEEE 754 binary16 to float32 (exact; Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | mant << 13);
        }
        if (exp == 0) {
            // Subnormal (or zero): mant * 2^-24, exact in float32.
            float v = mant * 0x1p-24f;
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | (exp + 112) << 23 | mant << 13);
    }

    /** float32 to IEEE 754 binary16, rounding to nearest even; overflow gives infinity. */
    static int floatToHalf(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) {
            return sign | 0x7c00 | (mant != 0 ? 0x200 | mant >>> 13 : 0);
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) {
            return sign | 0x7c00;
        }
        if (e <= 0) {
            if (e < -10) {
                return sign;
            }
            // Subnormal half: shift the mantissa (with its implicit 1) into place, round to nearest even.
            int m = mant | 0x800000;
            int shift = 14 - e;
            int half = m >>> shift;
            int rest = m & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rest > mid || (rest == mid && (half & 1) != 0)) {
                half++;
            }
            return sign | half;
        }
        int half = sign | e << 10 | mant >>> 13;
        int rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) {
            half++; // a carry into the exponent is the right result, up to infinity
        }
        return half;
    }
}
