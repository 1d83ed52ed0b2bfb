package org.mipflow.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The two batching settings and their rules, on plain numbers. */
class BatchingTest {
    private static final long MIB = 1L << 20;

    @Test
    void setValuesAreUsedAsTheyAre() {
        Batching b = new Batching(6, 4, 0);
        assertEquals(new Batching.Plan(6, 4), b.plan(Batching.Device.CPU, 256, 256, 1000 * MIB));
        assertEquals(new Batching.Plan(6, 4), b.plan(Batching.Device.gpu(16L << 30, 1), 64, 64, 1));
    }

    @Test
    void autoOnACpuIsTheMeasuredTableAndTheTaskBatchIsB() {
        for (int side : new int[] {32, 64, 128, 256, 512}) {
            int b = Batching.cpuCallRows(side, side);
            assertEquals(new Batching.Plan(b, b), Batching.AUTO.plan(Batching.Device.CPU, side, side, 1000 * MIB),
                    "no budget set: a CPU's B is the table's, whatever a row costs");
        }
        assertTrue(Batching.cpuCallRows(64, 64) >= Batching.cpuCallRows(128, 128));
        assertTrue(Batching.cpuCallRows(128, 128) >= Batching.cpuCallRows(256, 256));
        assertEquals(Batching.cpuCallRows(64, 64), Batching.cpuCallRows(32, 128), "by pixels, not by side");
        String table = Batching.describeCpuTable();
        assertTrue(table.contains("up to 64x64") && table.endsWith("above"), table);
    }

    @Test
    void aSetBudgetCapsTheCpuTableAndSizesAGpu() {
        Batching budget = new Batching(0, 0, 64 * MIB);
        assertEquals(1, budget.callRows(Batching.Device.CPU, 64, 64, 100 * MIB), "a row over the budget still decodes");
        assertEquals(Math.min(2, Batching.cpuCallRows(64, 64)), budget.callRows(Batching.Device.CPU, 64, 64, 32 * MIB));
        assertEquals(2, budget.callRows(Batching.Device.gpu(80L << 30, 1), 256, 256, 32 * MIB));
    }

    @Test
    void autoOnAGpuIsFortyPercentOfItsMemorySharedByItsTasks() {
        Batching.Device gpu = Batching.Device.gpu(20L << 30, 4); // 20 GiB, four tasks: 2 GiB each
        assertEquals(2L << 30, Batching.AUTO.budget(gpu));
        assertEquals(64, Batching.AUTO.callRows(gpu, 256, 256, 32 * MIB));
        assertEquals(Batching.MAX_ROWS, Batching.AUTO.callRows(gpu, 64, 64, MIB), "capped");
        assertEquals(1, Batching.AUTO.callRows(gpu, 1024, 1024, 4L << 30));
        assertEquals(0, Batching.AUTO.budget(Batching.Device.CPU));
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Batching(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Batching(0, -2, 0));
        assertThrows(IllegalArgumentException.class, () -> new Batching.Plan(0, 1));
        assertEquals("rows per network call 8, rows per task batch auto, memory budget 64 MiB",
                new Batching(0, 8, 64 * MIB).describe());
    }
}
