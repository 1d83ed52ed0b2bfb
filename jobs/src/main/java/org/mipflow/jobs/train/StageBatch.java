package org.mipflow.jobs.train;

import java.util.SplittableRandom;
import org.mipflow.model.ModelConfig;
import org.mipflow.model.TimeFeatures;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.Resample;
import org.mipflow.schedule.StageSchedule;

/**
 * One training batch for the multi-stage flow-matching objective (docs/METHOD.md section 4): the
 * clean crops, and for every stage type (K pyramid stages plus the full-resolution flow) the
 * interpolated state x_u, its target velocity and the time features of each row.
 *
 * <p>Every crop is used in every pyramid stage, so the encoder runs once per crop and each stage
 * sees the same latents; the full-resolution flow (only the 50-step baseline uses it) gets the
 * first half of the crops, which saves a third of the step's cost. A batch depends only on (seed, step), so a resumed run sees the same
 * data as an uninterrupted one.
 */
public record StageBatch(int rows, int crop, float[] crops, Stage[] stages) {

    /**
     * Inputs and target of one stage type; {@code u} is each row's local time, so that the state's
     * end is {@code state - u * velocity} (the one-pass prediction a training term may score).
     */
    public record Stage(int rows, int side, float[] state, float[] velocity, float[] timeFeatures, float[] u) {}

    public static StageBatch make(PhotoBank bank, ModelConfig cfg, int rows, int crop, long seed, long step) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + step);
        StageSchedule sch = cfg.schedule();
        FlowScheduler flow = new FlowScheduler(sch);
        int k = sch.stages();
        int types = cfg.stageTypes();
        int fd = cfg.timeFeatureDim();
        float[] crops = new float[rows * 3 * crop * crop];
        Stage[] stages = new Stage[types];
        float[][] state = new float[types][];
        float[][] vel = new float[types][];
        float[][] tf = new float[types][];
        float[][] us = new float[types][];
        int[] side = new int[types];
        int[] count = new int[types];
        for (int s = 0; s < types; s++) {
            side[s] = s == flow.fullFlow() ? crop : sch.resolution(s, crop);
            count[s] = s == flow.fullFlow() ? Math.max(1, rows / 2) : rows;
            state[s] = new float[count[s] * 3 * side[s] * side[s]];
            vel[s] = new float[state[s].length];
            tf[s] = new float[count[s] * fd];
            us[s] = new float[count[s]];
        }
        int px = 3 * crop * crop;
        for (int r = 0; r < rows; r++) {
            float[] c = bank.randomCrop(crop, rng);
            System.arraycopy(c, 0, crops, r * px, px);
            for (int s = 0; s < types; s++) {
                if (r >= count[s]) {
                    continue;
                }
                int n = 3 * side[s] * side[s];
                float[] end;
                float[] start;
                double e = flow.endLevel(s);
                double st = flow.startLevel(s);
                double u = rng.nextDouble();
                double t = flow.time(s, u);
                us[s][r] = (float) u;
                if (s == flow.fullFlow()) {
                    end = c;
                    start = null;
                } else {
                    int levels = k - 1 - s;
                    end = Resample.down(c, 3, crop, crop, levels);
                    int sd = side[s];
                    start = Resample.nearestUp2(Resample.down2(end, 3, sd, sd), 3, sd / 2, sd / 2);
                }
                int off = r * n;
                for (int i = 0; i < n; i++) {
                    double eps = rng.nextGaussian();
                    double a = FlowScheduler.mix(end[i], eps, e);
                    double b = FlowScheduler.mix(start == null ? 0 : start[i], eps, st);
                    state[s][off + i] = (float) ((1 - u) * a + u * b);
                    vel[s][off + i] = (float) (b - a);
                }
                System.arraycopy(TimeFeatures.of(cfg, t, s), 0, tf[s], r * fd, fd);
            }
        }
        for (int s = 0; s < types; s++) {
            stages[s] = new Stage(count[s], side[s], state[s], vel[s], tf[s], us[s]);
        }
        return new StageBatch(rows, crop, crops, stages);
    }
}
