package org.mipflow.jobs.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import org.mipflow.metrics.Ssim;

/**
 * SSIM as a differentiable function of NDArrays, for training terms: the definition of {@link Ssim}
 * (11 x 11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03, per RGB plane, averaged), on images
 * in [-1, 1] mapped to [0, 1] with data range 1.
 *
 * <p>The window runs as a valid (unpadded) separable convolution. Its output is exactly the
 * interior that {@link Ssim} averages after cropping 5 pixels from each border, so the two agree
 * up to float rounding ({@code SsimLossTest}) without reproducing the reflected borders.
 */
final class SsimLoss {
    private static final double C1 = 0.01 * 0.01;
    private static final double C2 = 0.03 * 0.03;

    private SsimLoss() {}

    /**
     * Mean SSIM of each row of two [N, 3, H, W] batches in [-1, 1]: a [N] array that carries
     * gradients to either input.
     */
    static NDArray perRow(NDManager m, NDArray a, NDArray b) {
        Shape s = a.getShape();
        long n = s.get(0);
        long planes = n * s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        NDArray x = a.add(1).div(2).reshape(planes, 1, h, w);
        NDArray y = b.add(1).div(2).reshape(planes, 1, h, w);
        // One blur for the five moments: they are stacked along the batch axis.
        NDArray moments = blur(m, NDArrays.concat(new NDList(x, y, x.mul(x), y.mul(y), x.mul(y))));
        NDList parts = moments.split(5);
        NDArray mx = parts.get(0);
        NDArray my = parts.get(1);
        NDArray mxmy = mx.mul(my);
        NDArray mx2 = mx.mul(mx);
        NDArray my2 = my.mul(my);
        NDArray vx = parts.get(2).sub(mx2);
        NDArray vy = parts.get(3).sub(my2);
        NDArray cxy = parts.get(4).sub(mxmy);
        NDArray num = mxmy.mul(2).add(C1).mul(cxy.mul(2).add(C2));
        NDArray den = mx2.add(my2).add(C1).mul(vx.add(vy).add(C2));
        return num.div(den).reshape(n, -1).mean(new int[] {1});
    }

    /**
     * The training term 1 - mean SSIM of {@code pred} against {@code clean}. A term that is off
     * ({@code trained} false) is still logged, but on a stopped gradient: no graph through it.
     */
    static NDArray loss(NDManager m, NDArray pred, NDArray clean, boolean trained) {
        return perRow(m, trained ? pred : pred.stopGradient(), clean).mean().neg().add(1);
    }

    /** The Gaussian window as two valid 1-D convolutions of [P, 1, H, W]. */
    private static NDArray blur(NDManager m, NDArray x) {
        double[] k = Ssim.window();
        float[] f = new float[k.length];
        for (int i = 0; i < k.length; i++) {
            f[i] = (float) k[i];
        }
        NDArray rows = m.create(f, new Shape(1, 1, k.length, 1));
        NDArray cols = m.create(f, new Shape(1, 1, 1, k.length));
        NDArray v = Conv2d.conv2d(x, rows).singletonOrThrow();
        return Conv2d.conv2d(v, cols).singletonOrThrow();
    }
}
