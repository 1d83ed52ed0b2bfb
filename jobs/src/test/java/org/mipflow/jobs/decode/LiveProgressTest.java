package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;

/**
 * Progress moves while a task runs: one task counts 30 rows slowly in the decode's accumulator,
 * and the driver-side listener sees partial counts from executor heartbeats before the task ends.
 */
class LiveProgressTest {
    @Test
    void progressMovesDuringATask() throws Exception {
        SparkSession spark = SparkSession.builder().master("local[1]").appName("mipflow-progress")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.executor.heartbeatInterval", "300ms").getOrCreate();
        try (Progress p = new Progress(spark, 30, 60_000)) {
            LongAccumulator decoded = spark.sparkContext().longAccumulator(Progress.DECODED);
            AtomicLong seenMidway = new AtomicLong(-1);
            Thread watcher = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    long d = p.decoded();
                    if (d > 0 && d < 30) {
                        seenMidway.set(d);
                    }
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            watcher.start();
            long n = JavaSparkContext.fromSparkContext(spark.sparkContext())
                    .parallelize(java.util.stream.IntStream.range(0, 30).boxed().toList(), 1)
                    .map(i -> {
                        Thread.sleep(100);
                        decoded.add(1);
                        return i;
                    }).count();
            Thread.sleep(500); // task-end events reach listeners asynchronously
            watcher.interrupt();
            watcher.join();
            assertEquals(30, n);
            assertTrue(seenMidway.get() > 0, "no partial count arrived while the task ran");
            assertEquals(30, p.decoded(), "the finished task's count");
            assertEquals(0, p.failed());
            assertTrue(Progress.line(p.decoded(), p.failed(), 30, 3.0).startsWith("progress: 30 of 30 rows"));
        } finally {
            spark.stop();
        }
    }
}
