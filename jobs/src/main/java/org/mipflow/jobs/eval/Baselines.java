package org.mipflow.jobs;

import java.util.List;
import org.mipflow.io.ImageOps;
import org.mipflow.model.MipflowModel;
import org.mipflow.schedule.Resample;

/** Deterministic reference decoders that eval and bench compare the samplers with. */
final class Baselines {
    private Baselines() {}

    /**
     * One plain forward pass of the teacher at full resolution from t = 1 with a zero state,
     * read as x0 = x - v: the cheapest decode the network can do (bench's cost floor).
     */
    static float[] teacherOnePass(MipflowModel model, float[] z, int n, int size) {
        int zs = size / model.downsample();
        float[] x = new float[n * 3 * size * size];
        float[] v = model.velocity(x, n, size, size, z, zs, zs, 1.0, model.schedule().stages(), false);
        for (int i = 0; i < v.length; i++) {
            v[i] = -v[i];
        }
        return v;
    }

    /** Area downsampling by 8 and antialiased bilinear upsampling: ignores the latent entirely. */
    static float[] resize(List<float[]> refs, int start, int n, int size) {
        int px = 3 * size * size;
        float[] out = new float[n * px];
        for (int i = 0; i < n; i++) {
            float[] small = Resample.down(refs.get(start + i), 3, size, size, 3);
            float[] up = ImageOps.resize(small, 3, size / 8, size / 8, size, size);
            System.arraycopy(up, 0, out, i * px, px);
        }
        return out;
    }
}
