package org.mipflow.sampling;

import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Per-row Java work of a batch (noise, PNG, metrics) spread over the cores a task owns while the
 * network is idle. Rows are independent (each draws from its own generator and writes its own
 * slice), so the result is the same in any order. A task owns as many cores as libtorch has
 * intra-op threads in this JVM ({@code ai.djl.pytorch.num_threads}, set once per JVM before the
 * engine starts), so the rows are cut into that many chunks: on an executor of 4 cores on a
 * 64-core node, a task takes its share, not the common pool's 63 threads.
 */
final class Rows {
    private Rows() {}

    static void each(int n, IntConsumer row) {
        int chunks = Math.min(n, Math.max(1, Integer.getInteger("ai.djl.pytorch.num_threads", 1)));
        if (chunks == 1) {
            for (int r = 0; r < n; r++) {
                row.accept(r);
            }
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(c -> {
            for (int r = c; r < n; r += chunks) {
                row.accept(r);
            }
        });
    }
}
