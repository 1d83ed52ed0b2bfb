package org.mipflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The tokenizer's encoder: image [N,3,H,W] in [-1,1] to latent grid [N,C,H/8,W/8].
 *
 * <p>A 2x space-to-depth first, so no convolution runs at full resolution (the encoder is
 * trained jointly and its cost counts in every training step), then two strided stages.
 */
public final class EncoderNet extends NetBlock {
    private final ModelConfig cfg;
    private final Layers.Conv in;
    private final Layers.ResBlock r1;
    private final Layers.Conv d1;
    private final Layers.ResBlock r2;
    private final Layers.Conv d2;
    private final Layers.ResBlock r3;
    private final Layers.ChannelNorm nOut;
    private final Layers.Conv out;

    public EncoderNet(ModelConfig cfg, long seed) {
        super((byte) 1, seed);
        this.cfg = cfg;
        int w = cfg.encoderWidth();
        in = new Layers.Conv(this, "enc.in", 12, w, 3, 1, 1.0);
        r1 = new Layers.ResBlock(this, "enc.r1", w, w, 0);
        d1 = new Layers.Conv(this, "enc.d1", w, 2 * w, 3, 2, 1.0);
        r2 = new Layers.ResBlock(this, "enc.r2", 2 * w, 2 * w, 0);
        d2 = new Layers.Conv(this, "enc.d2", 2 * w, 2 * w, 3, 2, 1.0);
        r3 = new Layers.ResBlock(this, "enc.r3", 2 * w, 2 * w, 0);
        nOut = new Layers.ChannelNorm(this, "enc.nout", 2 * w);
        out = new Layers.Conv(this, "enc.out", 2 * w, cfg.latentChannels(), 1, 1, 1.0);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape s = x.getShape();
        long n = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        // space-to-depth: [N,3,H,W] -> [N,12,H/2,W/2]
        NDArray h0 = x.reshape(n, 3, h / 2, 2, w / 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(n, 12, h / 2, w / 2);
        NDArray y = r1.apply(in.apply(h0), null, training);
        y = r2.apply(d1.apply(y), null, training);
        y = r3.apply(d2.apply(y), null, training);
        return new NDList(out.apply(Layers.silu(nOut.apply(y))));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        int f = cfg.downsample();
        return new Shape[] {new Shape(s.get(0), cfg.latentChannels(), s.get(2) / f, s.get(3) / f)};
    }
}
