package org.mipflow.model;

import java.io.Serializable;
import java.util.Locale;

/**
 * The number format and memory layout the decoder network computes in. The sampler's state, its
 * stage jumps and every array crossing into Java stay float32 whatever is chosen here.
 *
 * <p>fp32/nchw is the native DJL network; every other combination runs the same weights through
 * the TorchScript twin ({@link FlowUNetTwin}), because DJL can create neither bfloat16 tensors nor
 * channels-last ones (DESIGN.md section 4).
 */
public record NumericPath(Precision precision, Layout layout) implements Serializable {
    public enum Precision {
        FP32,
        BF16
    }

    public enum Layout {
        NCHW,
        NHWC
    }

    public static final NumericPath NATIVE = new NumericPath(Precision.FP32, Layout.NCHW);

    /** True for the native DJL network (no TorchScript involved). */
    public boolean isNative() {
        return equals(NATIVE);
    }

    /** "bf16/nhwc", as options take it and reports print it. */
    public String label() {
        return precision.name().toLowerCase(Locale.ROOT) + "/" + layout.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return label();
    }

    /**
     * What the user asked for: precision auto|fp32|bf16, layout auto|nchw|nhwc; "auto" is decided
     * where the model is loaded, from that device ({@link #resolve}).
     */
    public record Request(String precision, String layout) implements Serializable {
        public static final Request AUTO = new Request("auto", "auto");

        public Request {
            check("precision", precision, "auto", "fp32", "bf16");
            check("layout", layout, "auto", "nchw", "nhwc");
        }

        private static void check(String what, String value, String... allowed) {
            for (String a : allowed) {
                if (a.equals(value)) {
                    return;
                }
            }
            throw new IllegalArgumentException(what + " '" + value + "' is not one of " + String.join(", ", allowed));
        }

        /**
         * bf16 when asked, or on "auto" when the device has bf16 arithmetic; channels-last on "auto"
         * exactly when bf16 is used (measured: it is what makes the bf16 kernels fast, and in fp32 the
         * native NCHW network is the reference the fast paths are compared against).
         */
        public NumericPath resolve(boolean deviceHasBf16) {
            Precision p = switch (precision) {
                case "fp32" -> Precision.FP32;
                case "bf16" -> Precision.BF16;
                default -> deviceHasBf16 ? Precision.BF16 : Precision.FP32;
            };
            Layout l = switch (layout) {
                case "nchw" -> Layout.NCHW;
                case "nhwc" -> Layout.NHWC;
                default -> p == Precision.BF16 ? Layout.NHWC : Layout.NCHW;
            };
            return new NumericPath(p, l);
        }
    }
}
