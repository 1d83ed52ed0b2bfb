package org.mipflow.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The flow decoder D(x, t, z): a three-level UNet that predicts the velocity of a stage's flow.
 *
 * <p>Inputs: x [N,3,R,R] (the stage's state), time features [N,F] ({@link TimeFeatures}) and the
 * latent z [N,C,h,w], which is nearest-upsampled to R and concatenated to x. With
 * {@link ModelConfig#latentLevels} above 1, z also enters the coarser levels: upsampled to the
 * level's grid, through a 3x3 convolution of its own, added to the level's input. Those
 * convolutions start at zero, so a model grown by latent levels computes what it was grown from
 * ({@link MipflowModel#grownFrom}). The same network serves every stage and the single
 * full-resolution flow; the stage one-hot tells them apart.
 */
public final class FlowUNet extends NetBlock {
    private final ModelConfig cfg;
    private final Layers.Dense t1;
    private final Layers.Dense t2;
    private final Layers.Conv in;
    private final Layers.ResBlock e0;
    private final Layers.Conv down1;
    private final Layers.ResBlock e1;
    private final Layers.Conv down2;
    private final Layers.ResBlock m1;
    private final Layers.ResBlock m2;
    private final Layers.Conv up1;
    private final Layers.ResBlock d1;
    private final Layers.Conv up0;
    private final Layers.ResBlock d0;
    private final Layers.ChannelNorm nOut;
    private final Layers.Conv out;
    /** The latent's way into levels 1 and 2 (1/2 and 1/4 resolution); null where it does not enter. */
    private final Layers.Conv z1;
    private final Layers.Conv z2;

    public FlowUNet(ModelConfig cfg, long seed) {
        super((byte) 1, seed);
        this.cfg = cfg;
        int[] w = cfg.decoderWidths();
        int e = cfg.embedDim();
        t1 = new Layers.Dense(this, "dec.t1", cfg.timeFeatureDim(), e);
        t2 = new Layers.Dense(this, "dec.t2", e, e);
        in = new Layers.Conv(this, "dec.in", 3 + cfg.latentChannels(), w[0], 3, 1, 1.0);
        e0 = new Layers.ResBlock(this, "dec.e0", w[0], w[0], e);
        down1 = new Layers.Conv(this, "dec.down1", w[0], w[1], 3, 2, 1.0);
        e1 = new Layers.ResBlock(this, "dec.e1", w[1], w[1], e);
        down2 = new Layers.Conv(this, "dec.down2", w[1], w[2], 3, 2, 1.0);
        m1 = new Layers.ResBlock(this, "dec.m1", w[2], w[2], e);
        m2 = new Layers.ResBlock(this, "dec.m2", w[2], w[2], e);
        up1 = new Layers.Conv(this, "dec.up1", w[2], w[1], 3, 1, 1.0);
        d1 = new Layers.ResBlock(this, "dec.d1", 2 * w[1], w[1], e);
        up0 = new Layers.Conv(this, "dec.up0", w[1], w[0], 3, 1, 1.0);
        d0 = new Layers.ResBlock(this, "dec.d0", 2 * w[0], w[0], e);
        nOut = new Layers.ChannelNorm(this, "dec.nout", w[0]);
        out = new Layers.Conv(this, "dec.out", w[0], 3, 3, 1, 0.0);
        int c = cfg.latentChannels();
        z1 = cfg.latentLevels() > 1 ? new Layers.Conv(this, "dec.z1", c, w[1], 3, 1, 0.0) : null;
        z2 = cfg.latentLevels() > 2 ? new Layers.Conv(this, "dec.z2", c, w[2], 3, 1, 0.0) : null;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        NDArray tf = inputs.get(1);
        NDArray z = inputs.get(2);
        long r = x.getShape().get(2);
        long c = x.getShape().get(3);
        NDArray emb = Layers.silu(t2.apply(Layers.silu(t1.apply(tf))));
        NDArray zUp = z.getNDArrayInternal().interpolation(new long[] {r, c}, 0, false);
        NDArray h0 = e0.apply(in.apply(NDArrays.concat(new NDList(x, zUp), 1)), emb, training);
        NDArray h1 = e1.apply(withLatent(down1.apply(h0), z1, z), emb, training);
        NDArray h2 = m2.apply(m1.apply(withLatent(down2.apply(h1), z2, z), emb, training), emb, training);
        NDArray u1 = up1.apply(upsample(h2));
        NDArray g1 = d1.apply(NDArrays.concat(new NDList(u1, h1), 1), emb, training);
        NDArray u0 = up0.apply(upsample(g1));
        NDArray g0 = d0.apply(NDArrays.concat(new NDList(u0, h0), 1), emb, training);
        return new NDList(out.apply(Layers.silu(nOut.apply(g0))));
    }

    /** {@code h} plus the level's view of z, where z enters that level. */
    private static NDArray withLatent(NDArray h, Layers.Conv conv, NDArray z) {
        if (conv == null) {
            return h;
        }
        Shape s = h.getShape();
        return h.add(conv.apply(z.getNDArrayInternal().interpolation(new long[] {s.get(2), s.get(3)}, 0, false)));
    }

    private static NDArray upsample(NDArray x) {
        Shape s = x.getShape();
        return x.getNDArrayInternal().interpolation(new long[] {s.get(2) * 2, s.get(3) * 2}, 0, false);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    public ModelConfig config() {
        return cfg;
    }
}
