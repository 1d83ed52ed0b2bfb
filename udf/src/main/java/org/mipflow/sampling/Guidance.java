package org.mipflow.sampling;

/**
 * Classifier-free guidance as a decoder was trained for it: the learned null condition (a
 * latent of the model's shape, flat), the default scale W, and the interval of network times in
 * which it applies. At a guided step the conditional and the unconditional row go through the
 * network in one call and v = v_u + W (v_c - v_u); W <= 1 makes one call, unguided.
 */
public record Guidance(float[] nullCondition, double scale, double low, double high) {
    public Guidance {
        nullCondition = nullCondition.clone();
        if (!(low <= high)) {
            throw new IllegalArgumentException("guidance interval [" + low + ", " + high + "] is empty");
        }
    }

    @Override
    public float[] nullCondition() {
        return nullCondition.clone();
    }

    /** Whether a step at network time {@code t} is guided with scale {@code w}. */
    public boolean applies(double w, double t) {
        return w > 1 && t >= low && t <= high;
    }
}
