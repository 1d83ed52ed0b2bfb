package org.mipflow.sampling;

/**
 * Classifier-free guidance as a decoder was trained for it: the learned null condition (a
 * latent of the model's shape, flat), the default scale W, and the interval of network times in
 * which it applies. At a guided step of n rows the sampler evaluates 2n: the n conditional rows,
 * then their n unconditional twins (this null condition), through the same calls of B rows each
 * ({@link NetworkCalls}; an image's two rows may land in different calls), and v = v_u + W (v_c -
 * v_u). Outside the interval, or with W <= 1, a step evaluates the n conditional rows only.
 *
 * <p>The method's authors guide a network with its own null latent ({@code model.context_null}),
 * and their ADD distillation trains the student's along with the rest of its weights, so the
 * one-step student may have a null condition of its own.
 *
 * @param studentNullCondition the student's null condition, or null: the teacher's
 */
public record Guidance(float[] nullCondition, float[] studentNullCondition, double scale, double low, double high) {
    public Guidance {
        nullCondition = nullCondition.clone();
        studentNullCondition = studentNullCondition == null ? null : studentNullCondition.clone();
        if (studentNullCondition != null && studentNullCondition.length != nullCondition.length) {
            throw new IllegalArgumentException("the student's null condition has " + studentNullCondition.length
                    + " values, the teacher's " + nullCondition.length);
        }
        if (!(low <= high)) {
            throw new IllegalArgumentException("guidance interval [" + low + ", " + high + "] is empty");
        }
    }

    /** One null condition for teacher and student. */
    public Guidance(float[] nullCondition, double scale, double low, double high) {
        this(nullCondition, null, scale, low, high);
    }

    @Override
    public float[] nullCondition() {
        return nullCondition.clone();
    }

    @Override
    public float[] studentNullCondition() {
        return studentNullCondition == null ? null : studentNullCondition.clone();
    }

    /** The null condition of the network that runs: the student's own where it has one. */
    public float[] nullCondition(boolean student) {
        return student && studentNullCondition != null ? studentNullCondition() : nullCondition();
    }

    /** Whether a step at network time {@code t} is guided with scale {@code w}. */
    public boolean applies(double w, double t) {
        return w > 1 && t >= low && t <= high;
    }
}
