package org.mipflow.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Stage windows and jump coefficients for K = 3, gamma = 1/3 (the table in docs/METHOD.md section 3.5). */
class StageScheduleTest {
    private final StageSchedule s = StageSchedule.DEFAULT;

    @Test
    void windowsMatchTheDesignTable() {
        assertEquals(1.0, s.start(0), 1e-12);
        assertEquals(2.0 / 3, s.end(0), 1e-12);
        assertEquals(0.800, s.start(1), 1e-3);
        assertEquals(1.0 / 3, s.end(1), 1e-12);
        assertEquals(0.500, s.start(2), 1e-3);
        assertEquals(0.0, s.end(2), 0);
    }

    @Test
    void jumpCoefficientsMatchTheDesignTable() {
        assertEquals(0.600, s.jumpScale(1), 1e-3);
        assertEquals(0.693, s.jumpNoise(1), 1e-3);
        assertEquals(0.750, s.jumpScale(2), 1e-3);
        assertEquals(0.434, s.jumpNoise(2), 1e-3);
    }

    @Test
    void jumpCarriesTheSignalToTheNextStart() {
        for (int k = 1; k < s.stages(); k++) {
            // a * (1 - e_{k-1}) must equal 1 - s_k so that the signal part of a jumped state
            // equals a training stage start.
            assertEquals(1 - s.start(k), s.jumpScale(k) * (1 - s.end(k - 1)), 1e-12, "stage " + k);
        }
    }

    @Test
    void timeMapsTheLocalWindow() {
        assertEquals(s.start(1), s.time(1, 1.0), 1e-12);
        assertEquals(s.end(1), s.time(1, 0.0), 1e-12);
        assertEquals(64, s.resolution(0, 256));
        assertEquals(128, s.resolution(1, 256));
        assertEquals(256, s.resolution(2, 256));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new StageSchedule(0, 0.3));
        assertThrows(IllegalArgumentException.class, () -> new StageSchedule(3, 0.5));
        assertThrows(IllegalArgumentException.class, () -> s.jumpScale(0));
        assertThrows(IllegalArgumentException.class, () -> s.resolution(0, 102));
    }
}
