package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.mipflow.sampling.Batching;

/** The wave plan's packing of rows into partitions, as plans only (no Spark): the padding it costs. */
class TaskPackingTest {

    private static List<ShardScan.Shard> shards(int n, long rowsEach) {
        List<ShardScan.Shard> s = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            s.add(new ShardScan.Shard("/in/part-" + i + ".parquet", rowsEach, "schema"));
        }
        return s;
    }

    /** What a whole plan sends per step: every wave packed for {@code batch} over {@code slots}. */
    private static Batching.Traffic traffic(List<ShardScan.Shard> shards, long waveRows, int slots, Batching.Plan batch) {
        Batching.Traffic t = Batching.Traffic.NONE;
        for (WavePlan.Wave w : WavePlan.plan(shards, waveRows, DecodeJob.Request.DEFAULT_WAVE_SHARDS, "t")) {
            t = t.plus(WaveDecoder.packing(w, slots, batch.unit()).traffic(batch));
        }
        return t;
    }

    @Test
    void thousandTwoRowShardsPadUnderFivePercent() {
        List<ShardScan.Shard> shards = shards(1000, 2);
        for (int slots : new int[] {1, 2, 8, 64}) {
            Batching.Traffic at8 = traffic(shards, 20_000, slots, new Batching.Plan(8, 8));
            assertEquals(2000, at8.rows());
            assertEquals(2000, at8.sent(), "2,000 rows are 250 full calls of 8, slots " + slots);
            Batching.Traffic at256 = traffic(shards, 20_000, slots, new Batching.Plan(256, 256));
            assertEquals(2000, at256.rows());
            if (slots <= 8) { // at least B rows per slot: only the last call of the wave is short
                assertEquals(2048, at256.sent(), "slots " + slots);
                assertTrue(at256.paddingFraction() < 0.05, at256 + " slots " + slots);
            }
        }
        // What the packing replaced: 8 file-made partitions of 250 rows at B = 256 sent 8 x 256.
        Batching.Traffic old = Batching.Traffic.NONE;
        for (int p = 0; p < 8; p++) {
            old = old.plus(new Batching.Plan(256, 256).traffic(250));
        }
        assertTrue(old.paddingFraction() > 0.02 && old.sent() == 2048);
        Batching.Traffic tasksOf125 = Batching.Traffic.NONE;
        for (int p = 0; p < 16; p++) {
            tasksOf125 = tasksOf125.plus(new Batching.Plan(256, 256).traffic(125));
        }
        assertTrue(tasksOf125.paddingFraction() > 0.5, "16 tasks of 125 rows at B = 256: " + tasksOf125);
    }

    /**
     * Any layout with at least B rows per slot sends the fewest rows a wave can: ceil(rows / B) B,
     * so at most one short call per wave; every row lands in exactly one partition, in multiples of B.
     */
    @Test
    void anyLayoutPadsOnlyTheWavesLastCall() {
        SplittableRandom rnd = new SplittableRandom(32);
        for (int trial = 0; trial < 300; trial++) {
            int b = new int[] {1, 2, 3, 8, 48, 256}[rnd.nextInt(6)];
            int slots = 1 + rnd.nextInt(64);
            List<ShardScan.Shard> shards = new ArrayList<>();
            long rows = 0;
            while (rows < (long) b * slots || rnd.nextInt(4) > 0) {
                long r = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(5000) : rnd.nextInt(7);
                shards.add(new ShardScan.Shard("/in/" + shards.size(), r, "s"));
                rows += r;
            }
            WavePlan.Wave w = new WavePlan.Wave("w", "s", shards);
            TaskPacking p = WaveDecoder.packing(w, slots, b);
            Batching.Traffic t = p.traffic(new Batching.Plan(b, b));
            assertEquals(rows, t.rows());
            assertEquals((rows + b - 1) / b * b, t.sent(), "rows " + rows + " B " + b + " slots " + slots);
            assertEquals(0, p.perPartition() % b);
            assertTrue(p.partitions() >= Math.min(slots, (rows + b - 1) / b), p + " slots " + slots);
            assertTrue(p.partitions() <= TaskPacking.PER_SLOT * slots, p + " slots " + slots);
            long seen = 0;
            for (int i = 0; i < p.partitions(); i++) {
                assertTrue(p.rowsOf(i) > 0);
                seen += p.rowsOf(i);
            }
            assertEquals(rows, seen);
            assertEquals(p.partitions() - 1, p.partitionOf(rows - 1));
            if (rows >= 20L * b) {
                assertTrue(t.paddingFraction() < 0.05, t.toString());
            }
        }
    }

    /** Fewer rows than a call per slot: spread over the slots (parallelism first), each row once. */
    @Test
    void smallWavesSpreadOverTheSlots() {
        TaskPacking p = TaskPacking.of(10, 4, 256);
        assertEquals(4, p.partitions());
        assertEquals(3, p.perPartition());
        assertEquals(1, p.rowsOf(3));
        assertEquals(1, TaskPacking.of(1, 8, 8).partitions());
        assertEquals(1, TaskPacking.of(0, 8, 8).partitions());
        assertThrows(IllegalArgumentException.class, () -> p.partitionOf(10));
    }

    /** A task batch that is not a multiple of B pads every batch; one that is pads only the task's last. */
    @Test
    void taskBatchesAndCalls() {
        Batching.Plan even = new Batching.Plan(16, 8);
        assertEquals(16, even.unit());
        assertEquals(new Batching.Traffic(40, 40), even.traffic(40));
        assertEquals(new Batching.Traffic(41, 48), even.traffic(41));
        Batching.Plan odd = new Batching.Plan(10, 8);
        assertEquals(8, odd.unit());
        assertEquals(new Batching.Traffic(40, 64), odd.traffic(40), "4 batches of 10, each in two calls of 8");
        assertEquals(0.0, Batching.Traffic.NONE.paddingFraction());
        assertThrows(IllegalArgumentException.class, () -> new Batching.Traffic(5, 4));
    }
}
