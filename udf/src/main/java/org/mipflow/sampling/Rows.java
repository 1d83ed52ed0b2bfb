package org.mipflow.sampling;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Per-row Java work of a batch (noise, PNG, metrics) spread over the cores while the network is
 * idle. Rows are independent (each draws from its own generator and writes its own slice), so
 * the result is the same in any order. It runs on the JVM's common fork-join pool, shared by the
 * tasks of an executor, so concurrent tasks together stay near one thread per core.
 */
final class Rows {
    private Rows() {}

    static void each(int n, IntConsumer row) {
        if (n == 1) {
            row.accept(0);
            return;
        }
        IntStream.range(0, n).parallel().forEach(row);
    }
}
