package org.mipflow.model;

import java.io.Serializable;
import java.util.Locale;

/**
 * The number format and memory layout the decoder network computes in. The sampler's state, its
 * stage jumps and every array crossing into Java stay float32 whatever is chosen here.
 *
 * <p>fp32/nchw is the native DJL network; every other combination runs the same weights through
 * the TorchScript twin ({@link FlowUNetTwin}), because DJL can create neither bfloat16 tensors nor
 * channels-last ones (docs/METHOD.md sections 7 and 8.3).
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
         * This request, if some device can run it: executors resolve "auto" for their own device,
         * so what neither a bf16-capable nor another device could run is refused up front.
         *
         * @throws IllegalArgumentException with the reason
         */
        public Request checkedForAnyDevice() {
            resolve(true);
            resolve(false);
            return this;
        }

        /**
         * bf16 when asked, or on "auto" when the device has bf16 arithmetic and the layout is not
         * NCHW; channels-last on "auto", in either precision: the fastest path measured on every
         * CPU tried (fp32/nhwc 1.6x over fp32/nchw on an AMD EPYC Zen 3 without native bf16, 2.4x
         * on a Zen 4 at 256 px; 8-bit images within one level of the NCHW network's). The native
         * DJL network (fp32/nchw), the reference the other paths are tested against, runs when
         * {@code --layout nchw} asks for it.
         *
         * <p>bf16 with NCHW is refused on every device, whatever its CPU. libtorch 2.5.1's bfloat16
         * 3x3 convolution with 3 output channels in NCHW layout, the decoder's last layer, was wrong
         * on one AVX-512 BF16 AMD EPYC (Zen 4; relative error 0.23-0.31 against fp32) and right on
         * others (another Zen 4, a Zen 5, and an emulating Zen 3: 0.005): the defect follows the
         * kernel oneDNN picks, not a CPU flag, so no flag can tell. Deciding it by a measurement at
         * load would buy nothing: where it was right, bf16/nchw was 1.7x slower than bf16/nhwc
         * (docs/METHOD.md section 8.3). FlowUNetTwinTest measures and logs the error on the machine
         * it runs on.
         */
        public NumericPath resolve(boolean deviceHasBf16) {
            Precision p = switch (precision) {
                case "fp32" -> Precision.FP32;
                case "bf16" -> Precision.BF16;
                // bf16 runs channels-last only, so an explicit NCHW layout makes "auto" fp32
                default -> deviceHasBf16 && !layout.equals("nchw") ? Precision.BF16 : Precision.FP32;
            };
            Layout l = switch (layout) {
                case "nchw" -> Layout.NCHW;
                case "nhwc" -> Layout.NHWC;
                default -> Layout.NHWC;
            };
            if (p == Precision.BF16 && l == Layout.NCHW) {
                throw new IllegalArgumentException("bf16 runs channels-last only (layout nhwc or auto): libtorch 2.5.1 "
                        + "computes bf16 NCHW convolutions with 3 output channels wrongly on some CPUs, and slower "
                        + "than channels-last where it computes them right");
            }
            return new NumericPath(p, l);
        }
    }
}
