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

    /** The method's authors' stepping: windows of network time, linspace grid to 0.001 then 0, stage-local velocity. */
    @Test
    void theAuthorsGridAndTimeWindows() {
        ScheduleConvention authors = new ScheduleConvention(ScheduleConvention.NetworkTime.WINDOWS,
                java.util.List.of(java.util.List.of(1.0, 0.744), java.util.List.of(0.744, 0.386),
                        java.util.List.of(0.386, 0.001)),
                ScheduleConvention.VelocityUnit.STAGE_LOCAL, ScheduleConvention.StepGrid.AUTHORS, 0.001,
                ScheduleConvention.Renoise.POSITIVE);
        FlowScheduler a = new FlowScheduler(StageSchedule.DEFAULT, authors);
        FlowScheduler.Grid g = a.grid(1, 10);
        assertEquals(1.0, g.u()[0]);
        assertEquals(0.001, g.u()[9]);
        assertEquals(1.0 + 4 * ((0.001 - 1.0) / 9), g.u()[4], 0);
        double total = 0;
        for (double d : g.du()) {
            total += d;
        }
        assertEquals(1.0, total, 1e-15, "the steps cover the stage down to 0");
        assertEquals(0.001, g.du()[9], 1e-15, "the last step goes from gridEnd to 0");
        assertEquals(0.744, g.t()[0]);
        assertEquals(0.386, g.t()[9]);
        assertEquals(0.744 + 3 * ((0.386 - 0.744) / 9), g.t()[3], 1e-15);
        assertEquals(0.744, a.networkTime(1, 1.0), 1e-15);
        assertEquals(0.386, a.networkTime(1, 0.001), 1e-15);
        FlowScheduler.Grid one = a.grid(0, 1);
        assertEquals(1.0, one.du()[0], "one step: from 1 straight to 0");
        assertEquals(1.0, one.t()[0]);
        float[] v = {2f};
        assertEquals(2f, a.localVelocity(0, v)[0], "a stage-local velocity is used as it is");
        assertEquals(StageSchedule.DEFAULT.gamma(), a.renoiseCorrelation());
        assertEquals(-StageSchedule.DEFAULT.gamma(), sch.renoiseCorrelation());
        assertThrows(IllegalArgumentException.class, () -> new FlowScheduler(new StageSchedule(4, 1.0 / 3), authors),
                "three windows for four stages");
    }

    @Test
    void aGlobalVelocityIsScaledByTheSpanInPyramidStagesOnly() {
        FlowScheduler ts = new FlowScheduler(StageSchedule.DEFAULT, ScheduleConvention.TORCHSCRIPT_DEFAULT);
        float[] v = {1f, -2f};
        float[] local = ts.localVelocity(1, v.clone());
        assertEquals((float) (ts.span(1) * 1f), local[0]);
        assertEquals((float) (ts.span(1) * -2f), local[1]);
        assertArrayEquals(v, ts.localVelocity(3, v.clone()), "the full flow's time is its local time");
    }

    @Test
    void modelJsonWordsAreParsedAndUnknownOnesNamed() {
        assertEquals(ScheduleConvention.VelocityUnit.STAGE_LOCAL,
                ScheduleConvention.parse(ScheduleConvention.VelocityUnit.class, "schedule.velocity", "stage-local"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ScheduleConvention.parse(ScheduleConvention.StepGrid.class, "schedule.grid", "cosine"));
        assertEquals("schedule.grid 'cosine' is not one of uniform, authors", e.getMessage());
    }
}
