package org.mipflow.jobs.audit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.mipflow.jobs.audit.AuditStats.Histogram;
import org.mipflow.jobs.audit.AuditStats.Interval;

class AuditStatsTest {
    @Test
    void bootstrapIntervalOfAMeanIsCloseToTheTInterval() {
        double[] x = new double[200];
        java.util.SplittableRandom r = new java.util.SplittableRandom(4);
        for (int i = 0; i < x.length; i++) {
            x[i] = 10 + 2 * r.nextGaussian();
        }
        AuditStats.Interval boot = AuditStats.bootstrap(x.length, 2000, 1, idx -> {
            double s = 0;
            for (int i : idx) {
                s += x[i];
            }
            return s / idx.length;
        });
        AuditStats.Interval t = AuditStats.meanInterval(x);
        assertEquals(t.mean(), boot.mean(), 1e-12, "the point is the statistic of the sample itself");
        assertEquals(t.low(), boot.low(), 0.1 * t.halfWidth());
        assertEquals(t.high(), boot.high(), 0.1 * t.halfWidth());
        assertEquals(boot, AuditStats.bootstrap(x.length, 2000, 1, idx -> {
            double s = 0;
            for (int i : idx) {
                s += x[i];
            }
            return s / idx.length;
        }), "seeded");
    }

    @Test
    void tQuantilesMatchPublishedTables() {
        assertEquals(12.7062, AuditStats.t975(1), 1e-4);
        assertEquals(2.7764, AuditStats.t975(4), 1e-4);
        assertEquals(2.2622, AuditStats.t975(9), 1e-4);
        assertEquals(2.0423, AuditStats.t975(30), 1e-4);
        // Past the table: the Cornish-Fisher expansion.
        assertEquals(2.0395, AuditStats.t975(31), 1e-4);
        assertEquals(2.0211, AuditStats.t975(40), 1e-4);
        assertEquals(2.0003, AuditStats.t975(60), 1e-4);
        assertEquals(1.9799, AuditStats.t975(120), 1e-4);
        assertEquals(1.9600, AuditStats.t975(1_000_000), 1e-4);
        assertThrows(IllegalArgumentException.class, () -> AuditStats.t975(0));
    }

    @Test
    void tQuantileFallsAsDegreesOfFreedomGrow() {
        for (int df = 1; df < 500; df++) {
            assertTrue(AuditStats.t975(df + 1) < AuditStats.t975(df), "df " + df);
        }
    }

    @Test
    void meanIntervalByHand() {
        // 1..10: mean 5.5, s = 3.02765, se = 0.957427, t(9) = 2.262157.
        Interval i = AuditStats.meanInterval(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
        assertEquals(10, i.n());
        assertEquals(5.5, i.mean(), 1e-12);
        assertEquals(3.334149, i.low(), 1e-5);
        assertEquals(7.665851, i.high(), 1e-5);
        assertEquals(2.165851, i.halfWidth(), 1e-5);
    }

    @Test
    void pairedGapUsesPerImageDifferences() {
        // Differences -1, -0.5, -2, -0.5: mean -1, s^2 = 0.5, se = 0.353553, t(3) = 3.182446. The
        // bases spread over 15 dB, which an unpaired interval would take as noise.
        double[] full = {30, 25, 40, 35};
        double[] mode = {29, 24.5, 38, 34.5};
        Interval g = AuditStats.pairedGap(mode, full);
        assertEquals(4, g.n());
        assertEquals(-1.0, g.mean(), 1e-12);
        assertEquals(-2.125165, g.low(), 1e-5);
        assertEquals(0.125165, g.high(), 1e-5);
    }

    @Test
    void nonFiniteValuesAreLeftOut() {
        double[] full = {30, 25, Double.POSITIVE_INFINITY, 40, Double.NaN, 35};
        double[] mode = {29, 24.5, 50, 38, 20, 34.5};
        Interval g = AuditStats.pairedGap(mode, full);
        assertEquals(4, g.n());
        assertEquals(-1.0, g.mean(), 1e-12);
        assertEquals(-2.125165, g.low(), 1e-5);
    }

    @Test
    void tooFewValuesHaveNoInterval() {
        Interval one = AuditStats.meanInterval(new double[] {3, Double.NaN});
        assertEquals(1, one.n());
        assertEquals(3, one.mean());
        assertTrue(Double.isNaN(one.low()) && Double.isNaN(one.high()));
        Interval none = AuditStats.meanInterval(new double[0]);
        assertEquals(0, none.n());
        assertTrue(Double.isNaN(none.mean()));
        assertThrows(IllegalArgumentException.class, () -> AuditStats.pairedGap(new double[2], new double[3]));
    }

    @Test
    void histogramSharesBinsAcrossSeries() {
        Histogram h = AuditStats.histogram(new double[][] {{0, 1, 2, 3, 4}, {4, 4, Double.NaN}}, 4);
        assertEquals(0, h.lo());
        assertEquals(4, h.hi());
        assertEquals(1, h.binWidth());
        assertArrayEquals(new int[] {1, 1, 1, 2}, h.counts()[0]); // the top edge falls in the last bin
        assertArrayEquals(new int[] {0, 0, 0, 2}, h.counts()[1]);
        assertEquals(2, h.maxCount());
    }

    @Test
    void histogramOfOneValueOrNoneStillHasARange() {
        Histogram same = AuditStats.histogram(new double[][] {{7, 7, 7}}, 5);
        assertEquals(6.5, same.lo());
        assertEquals(7.5, same.hi());
        assertArrayEquals(new int[] {0, 0, 3, 0, 0}, same.counts()[0]);
        Histogram empty = AuditStats.histogram(new double[][] {{Double.NaN}}, 3);
        assertEquals(0, empty.maxCount());
        assertTrue(empty.hi() > empty.lo());
    }

    @Test
    void binCountFollowsSturgesWithinLimits() {
        assertEquals(5, AuditStats.binCount(1));
        assertEquals(7, AuditStats.binCount(50)); // ceil(log2 50) + 1
        assertEquals(11, AuditStats.binCount(1000));
        assertEquals(30, AuditStats.binCount(Integer.MAX_VALUE));
    }
}
