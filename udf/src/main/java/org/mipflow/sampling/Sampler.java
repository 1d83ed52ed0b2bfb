package org.mipflow.sampling;

import java.util.List;
import java.util.random.RandomGenerator;
import org.mipflow.schedule.BlockNoise;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.Resample;
import org.mipflow.schedule.StageSchedule;

/**
 * The three decoders of docs/METHOD.md section 6 written once against {@link VelocityModel}: plain
 * Euler integration of the flow from noise (t = 1) to image (t = 0), either in one
 * full-resolution stage or through the stage pyramid with a renoising jump between stages.
 *
 * <p>Each row draws all of its noise from its own generator, in a fixed order, and the network
 * sees every row in calls of a fixed row count ({@link NetworkCalls}), so an image depends on its
 * latent, its generator's seed and that count, never on how rows were batched or sharded.
 */
public final class Sampler implements ImageSampler {
    private final VelocityModel model;
    private final SamplerConfig cfg;
    private final FlowScheduler sch;
    private final Guidance guidance;
    /** The guidance scale W decoded with (1: unguided). */
    private final double w;
    /** The step grids of this mode, in the order they run (see {@link SamplerConfig#grids}). */
    private final List<FlowScheduler.Grid> grids;

    public Sampler(VelocityModel model, SamplerConfig cfg) {
        this.model = model;
        this.cfg = cfg;
        this.sch = model.scheduler();
        this.guidance = model.guidance();
        this.w = cfg.cfgScaleFor(guidance);
        if (w > 1 && guidance == null) {
            throw new IllegalArgumentException("guidance scale " + w + " needs a model with a null condition (model.json "
                    + "nullContext); this one has none, so use a scale of at most 1");
        }
        if (!model.modes().contains(cfg.mode())) {
            throw new IllegalArgumentException("mode " + cfg.mode().label() + " is not one the model was trained for ("
                    + model.modes().stream().map(SamplingMode::label).toList() + ")");
        }
        this.grids = cfg.grids(sch);
        if (cfg.mode().needsStudent() && !model.hasStudent()) {
            throw new IllegalArgumentException("mode " + cfg.mode().label()
                    + " needs a model with a distilled student (mipflow distill)");
        }
    }

    public SamplerConfig config() {
        return cfg;
    }

    /** The guidance scale this sampler decodes with (1: unguided). */
    public double cfgScale() {
        return w;
    }

    /** Forward passes per image in this configuration. */
    @Override
    public int forwardPasses() {
        return cfg.forwardPasses(model.schedule().stages());
    }

    /** Rows per image the network computes: one per step, two at a guided step (see {@link SamplerConfig#networkRows}). */
    public int networkRowsPerImage() {
        return cfg.networkRows(sch, guidance);
    }

    @Override
    public float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs, int rowsPerCall) {
        int[] side = model.latent().imageSize(zh, zw);
        int h = side[0];
        int w = side[1];
        if (rngs.length != n) {
            throw new IllegalArgumentException("need one generator per row");
        }
        if (z.length != n * model.latentChannels() * zh * zw) {
            throw new IllegalArgumentException("latent buffer does not match n*C*h*w");
        }
        NetworkCalls calls = new NetworkCalls(model, rowsPerCall);
        boolean student = cfg.mode().needsStudent();
        return switch (cfg.mode()) {
            case FULL -> full(z, n, zh, zw, h, w, rngs, grids.get(0), calls);
            case MULTISCALE, ONESTEP -> pyramid(z, n, zh, zw, h, w, rngs, grids, student, calls);
        };
    }

    private float[] full(float[] z, int n, int zh, int zw, int h, int w, RandomGenerator[] rngs, FlowScheduler.Grid grid,
            NetworkCalls calls) {
        float[] x = gaussian(n, 3 * h * w, rngs);
        integrate(x, n, h, w, z, zh, zw, grid, false, calls);
        return x;
    }

    private float[] pyramid(float[] z, int n, int zh, int zw, int h, int w, RandomGenerator[] rngs,
            List<FlowScheduler.Grid> grids, boolean student, NetworkCalls calls) {
        StageSchedule s = model.schedule();
        int k = s.stages();
        int sh = s.resolution(0, h);
        int sw = s.resolution(0, w);
        float[] x = gaussian(n, 3 * sh * sw, rngs);
        for (int stage = 0; stage < k; stage++) {
            if (stage > 0) {
                x = jump(x, n, sh, sw, stage, rngs);
                sh *= 2;
                sw *= 2;
            }
            integrate(x, n, sh, sw, z, zh, zw, grids.get(stage), student, calls);
        }
        return x;
    }

    /** Nearest-upsamples the end of a stage and renoises it into the next stage's start. */
    float[] jump(float[] x, int n, int h, int w, int nextStage, RandomGenerator[] rngs) {
        StageSchedule s = model.schedule();
        double a = sch.jumpScale(nextStage);
        double b = sch.jumpNoise(nextStage);
        float[] up = Resample.nearestUp2(x, 3 * n, h, w);
        int per = 3 * 4 * h * w;
        Rows.each(n, r -> {
            float[] noise = new float[per];
            BlockNoise.fill(noise, 3, 2 * h, 2 * w, s.gamma(), sch.renoiseCorrelation(), rngs[r]);
            int off = r * per;
            for (int i = 0; i < per; i++) {
                up[off + i] = (float) (a * up[off + i] + b * noise[i]);
            }
        });
        return up;
    }

    /**
     * The grid's Euler steps: at each, every row's velocity from the network in calls of a fixed row
     * count (with each row's unconditional twin at a guided step), made stage-local and applied by
     * the scheduler's step.
     */
    private void integrate(float[] x, int n, int h, int w, float[] z, int zh, int zw, FlowScheduler.Grid grid,
            boolean student, NetworkCalls calls) {
        float[] zPair = null; // the latents, then the null condition of each row: the same at every guided step
        for (int i = 0; i < grid.steps(); i++) {
            double t = grid.t()[i];
            boolean guided = guidance != null && guidance.applies(this.w, t);
            if (guided && zPair == null) {
                zPair = withNullConditions(z, n, student);
            }
            float[] v = guided ? guidedVelocity(x, n, h, w, zPair, zh, zw, t, grid.stageType(), student, calls)
                    : calls.velocity(x, n, h, w, z, zh, zw, t, grid.stageType(), student);
            sch.step(x, sch.localVelocity(grid.stageType(), v), grid, i, FlowScheduler.inPlace(0));
        }
    }

    /**
     * The n latents followed by n copies of the null condition of the network that runs (the
     * student's own where it has one): the conditions of a guided step's 2n rows.
     */
    private float[] withNullConditions(float[] z, int n, boolean student) {
        float[] pair = java.util.Arrays.copyOf(z, 2 * z.length);
        float[] nul = guidance.nullCondition(student);
        for (int r = 0; r < n; r++) {
            System.arraycopy(nul, 0, pair, z.length + r * nul.length, nul.length);
        }
        return pair;
    }

    /** v_u + W (v_c - v_u): the n conditional rows, then their n unconditional twins, through the same calls. */
    private float[] guidedVelocity(float[] x, int n, int h, int w, float[] zPair, int zh, int zw, double t,
            int stageType, boolean student, NetworkCalls calls) {
        return calls.guided(x, n, h, w, zPair, zh, zw, t, stageType, student, (float) this.w);
    }

    private static float[] gaussian(int n, int per, RandomGenerator[] rngs) {
        float[] x = new float[n * per];
        Rows.each(n, r -> {
            for (int i = 0; i < per; i++) {
                x[r * per + i] = (float) rngs[r].nextGaussian();
            }
        });
        return x;
    }
}
