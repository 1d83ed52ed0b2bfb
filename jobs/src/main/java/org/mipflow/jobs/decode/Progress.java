package org.mipflow.jobs.decode;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Prints "rows done of total, images/s, ETA" every few seconds while a decode runs, live: the
 * partition function counts rows in two named accumulators, executors send running tasks' values
 * with every heartbeat ({@code spark.executor.heartbeatInterval}), and finished tasks' values
 * arrive with their end. A failed attempt's rows are forgotten, so a retry does not count twice.
 */
final class Progress extends SparkListener implements AutoCloseable {
    static final String DECODED = "mipflow decoded rows";
    static final String FAILED = "mipflow failed rows";

    private final SparkSession spark;
    private final long total;
    private final long startNanos = System.nanoTime();
    private final AtomicLong finishedDecoded = new AtomicLong();
    private final AtomicLong finishedFailed = new AtomicLong();
    /** Running task id -> {decoded, failed} as last reported by a heartbeat. */
    private final Map<Long, long[]> running = new ConcurrentHashMap<>();
    private final Thread printer;
    private volatile boolean open = true;

    Progress(SparkSession spark, long total, long intervalMillis) {
        this.spark = spark;
        this.total = total;
        spark.sparkContext().addSparkListener(this);
        printer = new Thread(() -> {
            while (open) {
                try {
                    Thread.sleep(intervalMillis);
                } catch (InterruptedException e) {
                    return;
                }
                System.out.println(line(decoded(), failed(), total, seconds()));
            }
        }, "mipflow-progress");
        printer.setDaemon(true);
        printer.start();
    }

    long decoded() {
        return finishedDecoded.get() + running.values().stream().mapToLong(v -> v[0]).sum();
    }

    long failed() {
        return finishedFailed.get() + running.values().stream().mapToLong(v -> v[1]).sum();
    }

    double seconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    @Override
    public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
        for (Tuple4<Object, Object, Object, scala.collection.immutable.Seq<AccumulableInfo>> t
                : CollectionConverters.asJava(update.accumUpdates())) {
            long[] v = counts(t._4());
            if (v != null) {
                running.put((Long) t._1(), v);
            }
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        long id = end.taskInfo().taskId();
        running.remove(id);
        if (end.taskInfo().successful()) {
            long[] v = counts(end.taskInfo().accumulables());
            if (v != null) {
                finishedDecoded.addAndGet(v[0]);
                finishedFailed.addAndGet(v[1]);
            }
        }
    }

    /** This task's {decoded, failed} from its accumulator values, or null when it has none of ours. */
    private static long[] counts(scala.collection.Seq<AccumulableInfo> infos) {
        long[] v = null;
        for (AccumulableInfo a : CollectionConverters.asJava(infos)) {
            String name = a.name().isDefined() ? a.name().get() : null;
            int slot = DECODED.equals(name) ? 0 : FAILED.equals(name) ? 1 : -1;
            if (slot >= 0 && a.update().isDefined()) {
                v = v == null ? new long[2] : v;
                v[slot] = ((Number) a.update().get()).longValue();
            }
        }
        return v;
    }

    static String line(long decoded, long failed, long total, double seconds) {
        long done = decoded + failed;
        double rate = decoded / Math.max(seconds, 1e-9);
        String eta = done == 0 ? "?" : String.format(Locale.ROOT, "%.0f s", Math.max(0, total - done) * seconds / done);
        return String.format(Locale.ROOT, "progress: %d of %d rows (%d decoded, %d errors), %.2f images/s, ETA %s",
                done, total, decoded, failed, rate, eta);
    }

    @Override
    public void close() {
        open = false;
        printer.interrupt();
        spark.sparkContext().removeSparkListener(this);
    }
}
