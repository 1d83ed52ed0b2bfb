package org.mipflow.schedule;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The scheduler's grids, times, training levels and step, on plain numbers. */
class FlowSchedulerTest {
    final FlowScheduler sch = new FlowScheduler(StageSchedule.DEFAULT);

    @Test
    void uniformGridIsTheArithmeticDecodedBytesDependOn() {
        for (int stage = 0; stage <= 3; stage++) {
            FlowScheduler.Grid g = sch.grid(stage, 7);
            assertEquals(7, g.steps());
            double du = 1.0 / 7;
            for (int i = 0; i < 7; i++) {
                assertEquals(1.0 - i * du, g.u()[i]);
                assertEquals(du, g.du()[i]);
                double t = stage < 3 ? StageSchedule.DEFAULT.time(stage, g.u()[i]) : g.u()[i];
                assertEquals(t, g.t()[i], "stage " + stage + " step " + i);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> sch.grid(0, 0));
    }

    @Test
    void stageTypesLevelsAndSpans() {
        assertEquals(3, sch.fullFlow());
        assertTrue(sch.isPyramid(2));
        assertFalse(sch.isPyramid(3));
        assertThrows(IllegalArgumentException.class, () -> sch.isPyramid(4));
        assertEquals(1.0, sch.startLevel(0));
        assertEquals(0.8, sch.startLevel(1), 1e-3);
        assertEquals(0.0, sch.endLevel(2));
        assertEquals(1.0, sch.startLevel(3));
        assertEquals(0.0, sch.endLevel(3));
        assertEquals(1.0, sch.span(3));
        assertEquals(sch.startLevel(1) - sch.endLevel(1), sch.span(1));
        assertEquals(0.25 * 2 + 0.75 * -1, FlowScheduler.mix(2, -1, 0.75));
    }

    @Test
    void stepOnArraysIsTheSamplersUpdate() {
        FlowScheduler.Grid g = sch.grid(1, 3);
        float[] x = {1f, -2f, 0.5f, 3f};
        float[] v = {0.3f, 0.1f, -0.7f};
        float[] expected = x.clone();
        for (int j = 0; j < v.length; j++) {
            expected[1 + j] -= (float) (g.du()[0] * v[j]);
        }
        assertArrayEquals(expected, sch.step(x, v, g, 0, FlowScheduler.inPlace(1)));
        Double stepped = sch.step(1.0, 0.5, g, 2, (a, b, scale) -> a - scale * b);
        assertEquals(1.0 - 0.5 / 3, stepped, 1e-15);
    }
}
