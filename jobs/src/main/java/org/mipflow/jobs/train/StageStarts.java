package org.mipflow.jobs.train;

import java.util.SplittableRandom;
import org.mipflow.schedule.FlowScheduler;
import org.mipflow.schedule.Resample;
import org.mipflow.schedule.StageSchedule;

/**
 * A distillation batch: clean crops and, for every pyramid stage, the stage's start state as in
 * training ((1 - s_k) up(down(x_k)) + s_k eps) and the clean stage image x_k. The teacher runs
 * its multi-step flow from these starts; the student must reach the same end in one step.
 */
public record StageStarts(int rows, int crop, float[] crops, float[][] starts, float[][] clean, int[] sides) {

    public static StageStarts make(PhotoBank bank, StageSchedule sch, int rows, int crop, long seed, long step) {
        SplittableRandom rng = new SplittableRandom(seed * 0xBF58476D1CE4E5B9L + step + 1);
        FlowScheduler flow = new FlowScheduler(sch);
        int k = sch.stages();
        float[] crops = new float[rows * 3 * crop * crop];
        float[][] starts = new float[k][];
        float[][] clean = new float[k][];
        int[] sides = new int[k];
        for (int s = 0; s < k; s++) {
            sides[s] = sch.resolution(s, crop);
            starts[s] = new float[rows * 3 * sides[s] * sides[s]];
            clean[s] = new float[starts[s].length];
        }
        int px = 3 * crop * crop;
        for (int r = 0; r < rows; r++) {
            float[] c = bank.randomCrop(crop, rng);
            System.arraycopy(c, 0, crops, r * px, px);
            for (int s = 0; s < k; s++) {
                int sd = sides[s];
                int n = 3 * sd * sd;
                float[] end = Resample.down(c, 3, crop, crop, k - 1 - s);
                float[] coarse = Resample.nearestUp2(Resample.down2(end, 3, sd, sd), 3, sd / 2, sd / 2);
                double st = flow.startLevel(s);
                for (int i = 0; i < n; i++) {
                    starts[s][r * n + i] = (float) FlowScheduler.mix(coarse[i], rng.nextGaussian(), st);
                }
                System.arraycopy(end, 0, clean[s], r * n, n);
            }
        }
        return new StageStarts(rows, crop, crops, starts, clean, sides);
    }
}
