package org.mipflow.jobs.eval;

import org.mipflow.io.ImageOps;
import org.mipflow.schedule.Resample;

/** The baseline eval compares decodes with that ignores the latent. */
final class Baselines {
    private Baselines() {}

    /** Area downsampling by 8 and antialiased bilinear upsampling of one image [3,size,size]. */
    static float[] resize(float[] ref, int size) {
        float[] small = Resample.down(ref, 3, size, size, 3);
        return ImageOps.resize(small, 3, size / 8, size / 8, size, size);
    }
}
