package org.mipflow.schedule;

/**
 * The method's steps in one object, the way well-kept diffusion libraries keep a scheduler: the
 * stage windows (from {@link StageSchedule}), the step grid of a stage, the time the network is
 * given at each step, the Euler step itself, the training states, and the jump between stages.
 * Sampling ({@code Sampler}) and distillation ({@code StudentDistiller}) step through the same
 * {@link #step}; training batches ({@code StageBatch}, {@code StageStarts}) build their states
 * with the same {@link #mix}. scripts/torch/mipflow_sampler.py mirrors it. Pure math, no engine.
 *
 * <p>Stage types: 0..K-1 are the pyramid stages, coarsest first; {@link #fullFlow()} (= K) is the
 * single full-resolution flow of the {@code full} mode, where local and global time coincide.
 */
public final class FlowScheduler {
    private final StageSchedule schedule;

    public FlowScheduler(StageSchedule schedule) {
        this.schedule = schedule;
    }

    public StageSchedule schedule() {
        return schedule;
    }

    /** The stage type of the full-resolution flow. */
    public int fullFlow() {
        return schedule.stages();
    }

    public boolean isPyramid(int stageType) {
        if (stageType < 0 || stageType > fullFlow()) {
            throw new IllegalArgumentException("stage type " + stageType + " outside 0.." + fullFlow());
        }
        return stageType < fullFlow();
    }

    /**
     * The steps of one stage: the state is integrated in local time u from 1 (the stage's start) to
     * 0 (its end). Step i evaluates the network at local time {@code u[i]}, global time {@code t[i]},
     * and moves by {@code du[i]}.
     */
    public record Grid(int stageType, double[] u, double[] t, double[] du) {
        public int steps() {
            return u.length;
        }
    }

    /**
     * A uniform grid of {@code steps} Euler steps: u_i = 1 - i/N, each of length 1/N (computed as
     * 1.0 / N and 1 - i * (1/N) in double, the arithmetic decoded bytes depend on).
     */
    public Grid grid(int stageType, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("a stage needs at least one step, got " + steps);
        }
        double du = 1.0 / steps;
        double[] u = new double[steps];
        double[] t = new double[steps];
        double[] d = new double[steps];
        for (int i = 0; i < steps; i++) {
            u[i] = 1.0 - i * du;
            t[i] = time(stageType, u[i]);
            d[i] = du;
        }
        return new Grid(stageType, u, t, d);
    }

    /** Global flow time at local time u: the stage's window (pyramid), or u itself (full flow). */
    public double time(int stageType, double u) {
        return isPyramid(stageType) ? schedule.time(stageType, u) : u;
    }

    /** dt/du of a stage: s_k - e_k in the pyramid, 1 in the full flow. */
    public double span(int stageType) {
        return isPyramid(stageType) ? schedule.start(stageType) - schedule.end(stageType) : 1.0;
    }

    /** Noise level of a stage's start: s_k (the rectified start), 1 for the full flow. */
    public double startLevel(int stageType) {
        return isPyramid(stageType) ? schedule.start(stageType) : 1.0;
    }

    /** Noise level of a stage's end: e_k, 0 for the full flow. */
    public double endLevel(int stageType) {
        return isPyramid(stageType) ? schedule.end(stageType) : 0.0;
    }

    /** A state at noise level {@code level}: (1 - level) image + level eps (x_t of flow matching). */
    public static double mix(double image, double eps, double level) {
        return (1 - level) * image + level * eps;
    }

    /** How a step's update is done on some array type (float[] in the sampler, NDArray in training). */
    @FunctionalInterface
    public interface Axpy<T> {
        /** x - scale * v. */
        T minus(T x, T v, double scale);
    }

    /** The Euler step i of {@code grid}: x <- x - du_i v, with v = dx/du the network's velocity. */
    public <T> T step(T x, T v, Grid grid, int i, Axpy<T> arithmetic) {
        return arithmetic.minus(x, v, grid.du()[i]);
    }

    /** The update on float arrays, in place: x[j] -= (float) (scale * v[j]), the samplers' arithmetic. */
    public static Axpy<float[]> inPlace(int offset) {
        return (x, v, scale) -> {
            for (int j = 0; j < v.length; j++) {
                x[offset + j] -= (float) (scale * v[j]);
            }
            return x;
        };
    }

    /** Scale a and noise weight b of the jump into pyramid stage k >= 1: x <- a up(x) + b n'. */
    public double jumpScale(int k) {
        return schedule.jumpScale(k);
    }

    public double jumpNoise(int k) {
        return schedule.jumpNoise(k);
    }
}
