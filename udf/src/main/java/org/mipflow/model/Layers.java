package org.mipflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;

/**
 * Layers as plain objects that register their parameters on a {@link NetBlock}. No scalar
 * arithmetic appears on the gradient path (docs/METHOD.md section 8.1, pitfall a).
 */
final class Layers {
    private Layers() {}

    static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /** 2-D convolution with "same" padding for odd kernels. */
    static final class Conv {
        final Parameter w;
        final Parameter b;
        final int stride;
        final int pad;

        Conv(NetBlock owner, String name, int in, int out, int kernel, int stride, double scale) {
            this.w = owner.weight(name + ".w", new Shape(out, in, kernel, kernel), scale);
            this.b = owner.zeros(name + ".b", new Shape(out));
            this.stride = stride;
            this.pad = kernel / 2;
        }

        NDArray apply(NDArray x) {
            return Conv2d.conv2d(
                            x,
                            w.getArray(),
                            b.getArray(),
                            new Shape(stride, stride),
                            new Shape(pad, pad),
                            new Shape(1, 1))
                    .singletonOrThrow();
        }
    }

    static final class Dense {
        final Parameter w;
        final Parameter b;

        Dense(NetBlock owner, String name, int in, int out) {
            this.w = owner.weight(name + ".w", new Shape(out, in), 1.0);
            this.b = owner.zeros(name + ".b", new Shape(out));
        }

        NDArray apply(NDArray x) {
            return Linear.linear(x, w.getArray(), b.getArray()).singletonOrThrow();
        }
    }

    /**
     * Layer norm over the channels of each pixel. Unlike GroupNorm its statistics do not depend on
     * the image size, so a network trained on crops behaves the same on whole images (docs/METHOD.md
     * section 8.4: GroupNorm stalled at about 24 dB for that reason).
     */
    static final class ChannelNorm {
        final Parameter gamma;
        final Parameter beta;
        final int channels;

        ChannelNorm(NetBlock owner, String name, int channels) {
            this.gamma = owner.ones(name + ".g", new Shape(channels));
            this.beta = owner.zeros(name + ".b", new Shape(channels));
            this.channels = channels;
        }

        NDArray apply(NDArray x) {
            NDArray nhwc = x.transpose(0, 2, 3, 1);
            NDArray y =
                    LayerNorm.layerNorm(nhwc, new Shape(channels), gamma.getArray(), beta.getArray(), 1e-5f)
                            .singletonOrThrow();
            return y.transpose(0, 3, 1, 2);
        }
    }

    /**
     * Pre-activation residual block; the optional embedding adds a per-channel bias after the
     * first convolution. The second convolution starts at zero, so each block starts as identity.
     */
    static final class ResBlock {
        final ChannelNorm n1;
        final Conv c1;
        final Dense emb;
        final ChannelNorm n2;
        final Conv c2;
        final Conv skip;
        final int out;

        ResBlock(NetBlock owner, String name, int in, int out, int embDim) {
            this.n1 = new ChannelNorm(owner, name + ".n1", in);
            this.c1 = new Conv(owner, name + ".c1", in, out, 3, 1, 1.0);
            this.emb = embDim > 0 ? new Dense(owner, name + ".emb", embDim, out) : null;
            this.n2 = new ChannelNorm(owner, name + ".n2", out);
            this.c2 = new Conv(owner, name + ".c2", out, out, 3, 1, 0.0);
            this.skip = in == out ? null : new Conv(owner, name + ".skip", in, out, 1, 1, 1.0);
            this.out = out;
        }

        NDArray apply(NDArray x, NDArray embedding, boolean training) {
            return NetBlock.scoped(
                    x,
                    training,
                    in -> {
                        NDArray h = c1.apply(silu(n1.apply(in)));
                        if (emb != null) {
                            NDArray e = emb.apply(embedding);
                            h = h.add(e.reshape(e.getShape().get(0), out, 1, 1));
                        }
                        h = c2.apply(silu(n2.apply(h)));
                        NDArray s = skip == null ? in : skip.apply(in);
                        return s.add(h);
                    });
        }
    }
}
