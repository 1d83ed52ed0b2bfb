package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import org.mipflow.jobs.SparkTestSession;

/**
 * Progress moves while a task runs: one task counts 15 of its 30 rows in the decode's
 * accumulator and then waits until the driver-side listener has seen a partial count from an
 * executor heartbeat; only then does it count the rest and end. Nothing waits on a fixed sleep:
 * the task on the driver's event, the test on the listener bus draining.
 */
class LiveProgressTest {
    /** Released by the driver when a heartbeat brought a partial count (local mode: one JVM). */
    private static final CountDownLatch MIDWAY = new CountDownLatch(1);

    @Test
    void progressMovesDuringATask() throws Exception {
        SparkSession spark = SparkTestSession.builder("local[1]", "mipflow-progress")
                .config("spark.executor.heartbeatInterval", "300ms").getOrCreate();
        try (Progress p = new Progress(spark, 30, 60_000)) {
            LongAccumulator decoded = spark.sparkContext().longAccumulator(Progress.DECODED);
            AtomicLong seenMidway = new AtomicLong(-1);
            // Added after Progress, so on the same bus it sees each heartbeat after Progress did.
            SparkListener watcher = new SparkListener() {
                @Override
                public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate update) {
                    long d = p.decoded();
                    if (d > 0 && d < 30 && seenMidway.compareAndSet(-1, d)) {
                        MIDWAY.countDown();
                    }
                }
            };
            spark.sparkContext().addSparkListener(watcher);
            long n = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(java.util.stream.IntStream.range(0, 30).boxed().toList(), 1)
                    .map(i -> {
                        if (i == 15 && !MIDWAY.await(60, TimeUnit.SECONDS)) {
                            throw new IllegalStateException("no partial count reached the driver in 60 s");
                        }
                        decoded.add(1);
                        return i;
                    }).count();
            spark.sparkContext().listenerBus().waitUntilEmpty(); // the task-end event has reached Progress
            spark.sparkContext().removeSparkListener(watcher);
            assertEquals(30, n);
            assertTrue(seenMidway.get() > 0 && seenMidway.get() < 30, "a partial count arrived while the task ran");
            assertEquals(30, p.decoded(), "the finished task's count");
            assertEquals(0, p.failed());
            assertTrue(Progress.line(p.decoded(), p.failed(), 30, 3.0).startsWith("progress: 30 of 30 rows"));
        } finally {
            spark.stop();
        }
    }
}
