package org.mipflow.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.mipflow.schedule.StageSchedule;

class SamplerTest {
    private static final int N = 3;
    private static final int ZH = 4;
    private static final int ZW = 6;

    private static float[] latents() {
        SplittableRandom r = new SplittableRandom(3);
        float[] z = new float[N * 3 * ZH * ZW];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (2 * r.nextDouble() - 1);
        }
        return z;
    }

    private static RandomGenerator[] rngs(int n) {
        RandomGenerator[] g = new RandomGenerator[n];
        for (int i = 0; i < n; i++) {
            g[i] = RowNoise.forRow(5, "row-" + i);
        }
        return g;
    }

    private static void assertLandsOnTarget(SamplerConfig cfg, StageSchedule schedule) {
        OracleVelocity oracle = new OracleVelocity(schedule);
        float[] z = latents();
        float[] out = new Sampler(oracle, cfg).decode(z, N, ZH, ZW, rngs(N), 1);
        float[] target = OracleVelocity.target(z, N, ZH, ZW);
        assertEquals(target.length, out.length);
        for (int i = 0; i < out.length; i++) {
            assertEquals(target[i], out[i], 2e-4, "sample " + i);
        }
        // One row per call: N calls per forward pass.
        assertEquals(cfg.forwardPasses(schedule.stages()) * N, oracle.calls);
        assertEquals(1, oracle.largestBatch);
    }

    @Test
    void everyCallCarriesTheSetRowCountTheLastOnePadded() {
        SamplerConfig cfg = new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {3, 2, 4});
        for (int b : new int[] {2, 3, 5}) {
            OracleVelocity oracle = new OracleVelocity(StageSchedule.DEFAULT);
            float[] out = new Sampler(oracle, cfg).decode(latents(), N, ZH, ZW, rngs(N), b);
            assertEquals(cfg.forwardPasses(3) * ((N + b - 1) / b), oracle.calls, "B = " + b);
            assertEquals(b, oracle.largestBatch);
            assertEquals(b, oracle.smallestBatch);
            float[] target = OracleVelocity.target(latents(), N, ZH, ZW);
            for (int i = 0; i < out.length; i++) {
                assertEquals(target[i], out[i], 2e-4, "B = " + b + ", sample " + i);
            }
        }
    }

    @Test
    void fullModeIntegratesToTheTarget() {
        assertLandsOnTarget(new SamplerConfig(SamplingMode.FULL, 7, new int[] {1, 1, 1}), StageSchedule.DEFAULT);
    }

    @Test
    void multiscaleThroughJumpsIntegratesToTheTarget() {
        assertLandsOnTarget(new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {3, 2, 4}), StageSchedule.DEFAULT);
    }

    @Test
    void otherStageCountsWork() {
        assertLandsOnTarget(new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {2, 2}), new StageSchedule(2, 0.2));
        assertLandsOnTarget(new SamplerConfig(SamplingMode.ONESTEP, 50, new int[] {1, 1, 1, 1}), new StageSchedule(4, 1.0 / 3));
    }

    @Test
    void oneStepUsesOnePassPerStage() {
        assertLandsOnTarget(new SamplerConfig(SamplingMode.ONESTEP, 50, new int[] {9, 9, 9}), StageSchedule.DEFAULT);
    }

    @Test
    void rowsDoNotDependOnTheirBatch() {
        // A nonlinear field, so that any mixing of rows or noise streams changes the output.
        VelocityModel field = new OracleVelocity(StageSchedule.DEFAULT) {
            @Override
            public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int st,
                    boolean s) {
                float[] v = super.velocity(x, n, h, w, z, zh, zw, t, st, s);
                for (int i = 0; i < v.length; i++) {
                    v[i] += (float) Math.tanh(x[i] * 3);
                }
                return v;
            }
        };
        SamplerConfig cfg = new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {2, 2, 2});
        float[] z = latents();
        float[] batched = new Sampler(field, cfg).decode(z, N, ZH, ZW, rngs(N), 2);
        int per = 3 * ZH * ZW;
        int px = 3 * ZH * 8 * ZW * 8;
        for (int r = 0; r < N; r++) {
            float[] zi = java.util.Arrays.copyOfRange(z, r * per, (r + 1) * per);
            float[] single = new Sampler(field, cfg).decode(zi, 1, ZH, ZW,
                    new RandomGenerator[] {RowNoise.forRow(5, "row-" + r)}, 2);
            assertArrayEquals(java.util.Arrays.copyOfRange(batched, r * px, (r + 1) * px), single);
        }
    }

    @Test
    void rejectsMismatchedStepCounts() {
        OracleVelocity o = new OracleVelocity(StageSchedule.DEFAULT);
        assertThrows(IllegalArgumentException.class,
                () -> new Sampler(o, new SamplerConfig(SamplingMode.MULTISCALE, 50, new int[] {1, 1})));
    }

    @Test
    void theModeTableKeepsTheStepsAndOffersOnestepOnlyWithAStudent() {
        SamplerConfig cfg = new SamplerConfig(SamplingMode.MULTISCALE, 30, new int[] {3, 2, 1});
        assertEquals(List.of("full", "multiscale"), List.copyOf(cfg.everyMode(false).keySet()));
        var modes = cfg.everyMode(true);
        assertEquals(List.of("full", "multiscale", "onestep"), List.copyOf(modes.keySet()));
        assertEquals(30, modes.get("full").forwardPasses(3));
        assertEquals(6, modes.get("multiscale").forwardPasses(3));
        assertEquals(3, modes.get("onestep").forwardPasses(3));
        modes.forEach((label, c) -> assertEquals(label, c.mode().label()));
    }
}
