package org.mipflow.sampling;

/**
 * Classifier-free guidance as a decoder was trained for it: the learned null condition (a
 * latent of the model's shape, flat), the default scale W, and the interval of network times in
 * which it applies. At a guided step of n rows the sampler evaluates 2n: the n conditional rows,
 * then their n unconditional twins (this null condition), through the same calls of B rows each
 * ({@link NetworkCalls}; an image's two rows may land in different calls), and v = v_u + W (v_c -
 * v_u). Outside the interval, or with W <= 1, a step evaluates the n conditional rows only.
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
