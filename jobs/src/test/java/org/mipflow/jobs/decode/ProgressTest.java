package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void lineReportsDoneRateAndEta() {
        assertEquals("progress: 4 of 8 rows (3 decoded, 1 errors), 1.50 images/s, ETA 2 s",
                Progress.line(3, 1, 8, 2.0));
        assertEquals("progress: 0 of 8 rows (0 decoded, 0 errors), 0.00 images/s, ETA ?", Progress.line(0, 0, 8, 1.0));
    }
}
