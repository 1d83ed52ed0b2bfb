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
    private final ScheduleConvention convention;

    /** Mipflow's native convention (physical time, stage-local velocity, uniform grid). */
    public FlowScheduler(StageSchedule schedule) {
        this(schedule, ScheduleConvention.NATIVE);
    }

    public FlowScheduler(StageSchedule schedule, ScheduleConvention convention) {
        if (convention.networkTime() == ScheduleConvention.NetworkTime.WINDOWS
                && convention.timeWindows().size() != schedule.stages()) {
            throw new IllegalArgumentException("timeWindows needs one [tau_max, tau_min] per stage ("
                    + schedule.stages() + "), has " + convention.timeWindows().size());
        }
        this.schedule = schedule;
        this.convention = convention;
    }

    public StageSchedule schedule() {
        return schedule;
    }

    public ScheduleConvention convention() {
        return convention;
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
     * The grid of {@code steps} Euler steps of a stage. Uniform: u_i = 1 - i/N, each of length
     * 1/N (computed as 1.0 / N and 1 - i * (1/N) in double, the arithmetic decoded bytes depend
     * on). The authors': u_i = linspace(1, gridEnd, N)[i] and a last step to 0, with the network
     * time linspace'd over the stage's window the same way.
     */
    public Grid grid(int stageType, int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("a stage needs at least one step, got " + steps);
        }
        double[] u = new double[steps];
        double[] t = new double[steps];
        double[] d = new double[steps];
        if (convention.grid() == ScheduleConvention.StepGrid.UNIFORM) {
            double du = 1.0 / steps;
            for (int i = 0; i < steps; i++) {
                u[i] = 1.0 - i * du;
                t[i] = networkTime(stageType, u[i]);
                d[i] = du;
            }
            return new Grid(stageType, u, t, d);
        }
        double end = convention.gridEnd();
        for (int i = 0; i < steps; i++) {
            u[i] = linspace(1.0, end, steps, i);
        }
        for (int i = 0; i < steps; i++) {
            d[i] = u[i] - (i + 1 < steps ? u[i + 1] : 0.0);
            t[i] = windows(stageType) ? linspace(window(stageType, 0), window(stageType, 1), steps, i)
                    : networkTime(stageType, u[i]);
        }
        return new Grid(stageType, u, t, d);
    }

    /** numpy.linspace(a, b, n)[i]: a + i (b - a) / (n - 1), the last point exactly b. */
    static double linspace(double a, double b, int n, int i) {
        if (n == 1) {
            return a;
        }
        return i == n - 1 ? b : a + i * ((b - a) / (n - 1));
    }

    private boolean windows(int stageType) {
        return convention.networkTime() == ScheduleConvention.NetworkTime.WINDOWS && isPyramid(stageType);
    }

    private double window(int stage, int end) {
        return convention.timeWindows().get(stage).get(end);
    }

    /**
     * The time the network is given at local time u: the physical noise level (the stage's window
     * of [1, 0], or u in the full flow), or the stage's tau window, mapped linearly so that u = 1
     * gives tau_max and u = gridEnd gives tau_min.
     */
    public double networkTime(int stageType, double u) {
        if (!windows(stageType)) {
            return time(stageType, u);
        }
        double end = convention.gridEnd();
        double f = (u - end) / (1.0 - end);
        return window(stageType, 1) + f * (window(stageType, 0) - window(stageType, 1));
    }

    /**
     * The network's output as dx/du of the stage: a global velocity dx/dt is scaled by the span
     * (in double, rounded to float, as exports have always been), a stage-local one used as it is.
     */
    public float[] localVelocity(int stageType, float[] v) {
        if (convention.velocity() == ScheduleConvention.VelocityUnit.STAGE_LOCAL || !isPyramid(stageType)) {
            return v;
        }
        double span = span(stageType);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (span * v[i]);
        }
        return v;
    }

    /** The off-diagonal covariance of the jump's block noise: -gamma or +gamma. */
    public double renoiseCorrelation() {
        return convention.renoise() == ScheduleConvention.Renoise.NEGATIVE ? -schedule.gamma() : schedule.gamma();
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
