package org.mipflow.sampling;

import org.mipflow.schedule.Resample;
import org.mipflow.schedule.StageSchedule;

/**
 * The exact velocity field when every latent determines one image: the target is the latent's
 * 3 channels repeated over 8x8 pixels. Given the state and the time it recovers the noise and
 * returns the straight-line velocity of the training objective, so Euler integration lands on
 * the target exactly; any mistake in stage sizes, times, jumps or batching shows up as an error.
 */
class OracleVelocity implements VelocityModel {
    private final StageSchedule schedule;
    int calls;
    int largestBatch;
    int smallestBatch = Integer.MAX_VALUE;

    OracleVelocity(StageSchedule schedule) {
        this.schedule = schedule;
    }

    static float[] target(float[] z, int n, int zh, int zw) {
        float[] x = z;
        int h = zh;
        int w = zw;
        for (int i = 0; i < 3; i++) {
            x = Resample.nearestUp2(x, 3 * n, h, w);
            h *= 2;
            w *= 2;
        }
        return x;
    }

    @Override
    public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
            boolean student) {
        calls++;
        largestBatch = Math.max(largestBatch, n);
        smallestBatch = Math.min(smallestBatch, n);
        float[] full = target(z, n, zh, zw);
        int fh = zh * 8;
        int fw = zw * 8;
        float[] xk;
        float[] xs;
        double e;
        double s;
        if (stageType == schedule.stages()) {
            xk = full;
            xs = new float[full.length];
            e = 0;
            s = 1;
        } else {
            int levels = Integer.numberOfTrailingZeros(fh / h);
            xk = Resample.down(full, 3 * n, fh, fw, levels);
            xs = Resample.nearestUp2(Resample.down2(xk, 3 * n, h, w), 3 * n, h / 2, w / 2);
            e = schedule.end(stageType);
            s = schedule.start(stageType);
        }
        double u = (t - e) / (s - e);
        double c = (1 - u) * e + u * s;
        float[] v = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            double a = (1 - u) * (1 - e) * xk[i] + u * (1 - s) * xs[i];
            double eps = (x[i] - a) / c;
            v[i] = (float) ((1 - s) * xs[i] - (1 - e) * xk[i] + (s - e) * eps);
        }
        return v;
    }

    @Override
    public StageSchedule schedule() {
        return schedule;
    }

    @Override
    public int latentChannels() {
        return 3;
    }

    @Override
    public int downsample() {
        return 8;
    }

    @Override
    public boolean hasStudent() {
        return true;
    }
}
