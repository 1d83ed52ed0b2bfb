package org.mipflow.jobs.decode;

import java.io.Serializable;
import org.mipflow.sampling.Batching;

/**
 * How a wave's rows are dealt to its partitions (Spark tasks) so that the network's calls are
 * full. Every call carries exactly B rows and a task batch's last call is padded
 * ({@code NetworkCalls}), so a task of R rows sends ceil(R / B) B rows per step: a partition whose
 * row count is not a multiple of B pays a partly empty call. Partitions that follow the files
 * (many tiny shards packed, a few per slot) have arbitrary row counts: 1,000 two-row shards in 8
 * partitions of 250 rows sent 2,048 rows at B = 256, half of it padding. So rows are dealt by
 * their index in the wave (shard order, then row order within the shard: the same for a retried
 * task) into partitions of exactly {@code perPartition} rows, a multiple of the unit (B, or the
 * task batch when that is a multiple of B), and only the wave's last partition may end in a short
 * call. When the wave has fewer than a unit of rows per task slot, filling calls would leave slots
 * idle, so the rows are spread over the slots instead (padding then is the price of parallelism).
 * Pure arithmetic; {@link WaveDecoder} does the Spark part.
 *
 * @param rows the wave's rows
 * @param partitions how many partitions they are dealt into
 * @param perPartition rows of every partition but the last, which holds the rest
 */
record TaskPacking(long rows, int partitions, long perPartition) implements Serializable {
    /** Partitions per task slot when there are rows enough: balances unequal tasks, as Spark advises. */
    static final int PER_SLOT = 4;

    TaskPacking {
        if (rows < 0 || partitions < 1 || perPartition < 1 || (rows > 0 && (partitions - 1) * perPartition >= rows)) {
            throw new IllegalArgumentException("not a packing: " + rows + " rows, " + partitions + " partitions of "
                    + perPartition);
        }
    }

    /**
     * @param slots the cluster's task slots
     * @param unit rows that fill the calls of a task batch: partitions hold multiples of it
     */
    static TaskPacking of(long rows, int slots, int unit) {
        if (slots < 1 || unit < 1) {
            throw new IllegalArgumentException("slots and unit are positive: " + slots + ", " + unit);
        }
        if (rows == 0) {
            return new TaskPacking(0, 1, 1);
        }
        long per;
        if (rows >= (long) unit * slots) {
            per = unit * ceilDiv(rows, (long) unit * PER_SLOT * slots);
        } else {
            per = ceilDiv(rows, Math.min(slots, rows));
        }
        return new TaskPacking(rows, (int) ceilDiv(rows, per), per);
    }

    /** The partition of the row at {@code index} in the wave's order. */
    int partitionOf(long index) {
        if (index < 0 || index >= rows) {
            throw new IllegalArgumentException("row index " + index + " outside the wave's " + rows + " rows");
        }
        return (int) (index / perPartition);
    }

    /** Rows of partition {@code p}. */
    long rowsOf(int p) {
        return rows == 0 ? 0 : Math.min(perPartition, rows - p * perPartition);
    }

    /** What the partitions send to the network per step, decoded with {@code plan}. */
    Batching.Traffic traffic(Batching.Plan plan) {
        Batching.Traffic t = Batching.Traffic.NONE;
        for (int p = 0; p < partitions; p++) {
            t = t.plus(plan.traffic(rowsOf(p)));
        }
        return t;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }
}
