package org.mipflow.jobs;

import java.util.Locale;
import org.apache.spark.util.LongAccumulator;

/**
 * Prints "images done of total, images/s, ETA" to the driver log every few seconds while a decode
 * runs, from the partition function's accumulators (which the Spark UI shows by name too).
 */
final class Progress implements AutoCloseable {
    private final Thread thread;
    private final long startNanos = System.nanoTime();
    private volatile boolean running = true;

    Progress(LongAccumulator decoded, LongAccumulator failed, long total, long intervalMillis) {
        thread = new Thread(() -> {
            while (running) {
                try {
                    Thread.sleep(intervalMillis);
                } catch (InterruptedException e) {
                    return;
                }
                System.out.println(line(decoded.value(), failed.value(), total, (System.nanoTime() - startNanos) / 1e9));
            }
        }, "mipflow-progress");
        thread.setDaemon(true);
        thread.start();
    }

    static String line(long decoded, long failed, long total, double seconds) {
        long done = decoded + failed;
        double rate = decoded / Math.max(seconds, 1e-9);
        String eta = done == 0 ? "?" : String.format(Locale.ROOT, "%.0f s", (total - done) * seconds / done);
        return String.format(Locale.ROOT, "progress: %d of %d rows (%d decoded, %d errors), %.2f images/s, ETA %s",
                done, total, decoded, failed, rate, eta);
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
