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
 * trained jointly and its cost counts in every training step), then two strided stages; each of
 * the three levels has {@link ModelConfig#encoderBlocks} residual blocks. The first block of a
 * level keeps the name it had when there was one per level, and a block's last convolution starts
 * at zero, so a model grown by blocks computes what it was grown from
 * ({@link MipflowModel#grownFrom}).
 */
public final class EncoderNet extends NetBlock {
    private final ModelConfig cfg;
    private final Layers.Conv in;
    private final Layers.ResBlock[] r1;
    private final Layers.Conv d1;
    private final Layers.ResBlock[] r2;
    private final Layers.Conv d2;
    private final Layers.ResBlock[] r3;
    private final Layers.ChannelNorm nOut;
    private final Layers.Conv out;

    public EncoderNet(ModelConfig cfg, long seed) {
        super((byte) 1, seed);
        this.cfg = cfg;
        int w = cfg.encoderWidth();
        in = new Layers.Conv(this, "enc.in", 12, w, 3, 1, 1.0);
        r1 = level("enc.r1", w);
        d1 = new Layers.Conv(this, "enc.d1", w, 2 * w, 3, 2, 1.0);
        r2 = level("enc.r2", 2 * w);
        d2 = new Layers.Conv(this, "enc.d2", 2 * w, 2 * w, 3, 2, 1.0);
        r3 = level("enc.r3", 2 * w);
        nOut = new Layers.ChannelNorm(this, "enc.nout", 2 * w);
        out = new Layers.Conv(this, "enc.out", 2 * w, cfg.latentChannels(), 1, 1, 1.0);
    }

    private Layers.ResBlock[] level(String name, int width) {
        Layers.ResBlock[] blocks = new Layers.ResBlock[cfg.encoderBlocks()];
        for (int i = 0; i < blocks.length; i++) {
            blocks[i] = new Layers.ResBlock(this, i == 0 ? name : name + "." + (i + 1), width, width, 0);
        }
        return blocks;
    }

    private static NDArray apply(Layers.ResBlock[] blocks, NDArray x, boolean training) {
        for (Layers.ResBlock b : blocks) {
            x = b.apply(x, null, training);
        }
        return x;
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
        NDArray y = apply(r1, in.apply(h0), training);
        y = apply(r2, d1.apply(y), training);
        y = apply(r3, d2.apply(y), training);
        return new NDList(out.apply(Layers.silu(nOut.apply(y))));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape s = inputShapes[0];
        int f = cfg.downsample();
        return new Shape[] {new Shape(s.get(0), cfg.latentChannels(), s.get(2) / f, s.get(3) / f)};
    }
}
