package org.mipflow.jobs.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.SparkTestSession;
import org.mipflow.jobs.TestModels;
import org.mipflow.jobs.encode.EncodeJob;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/** Every partition fails once midway; with Spark's task retries every id still comes out exactly once. */
class TaskFaultTest {
    /**
     * Wraps the decode's partition function (through the job's test seam, {@code
     * Request.withPartitionWrapper}): every task's first attempt fails after emitting one row.
     */
    static final class FailOnceMidway implements MapPartitionsFunction<Row, Row> {
        private final MapPartitionsFunction<Row, Row> inner;

        FailOnceMidway(MapPartitionsFunction<Row, Row> inner) {
            this.inner = inner;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> rows) throws Exception {
            Iterator<Row> out = inner.call(rows);
            TaskContext tc = TaskContext.get();
            boolean fail = tc != null && tc.attemptNumber() == 0;
            return new Iterator<>() {
                private int emitted;

                @Override
                public boolean hasNext() {
                    return out.hasNext();
                }

                @Override
                public Row next() {
                    if (fail && ++emitted == 2) {
                        throw new IllegalStateException("injected task fault (TaskFaultTest)");
                    }
                    return out.next();
                }
            };
        }
    }

    @Test
    void retriedTasksLoseAndDuplicateNothing(@TempDir Path tmp) throws Exception {
        SparkSession spark = SparkTestSession.start("local[2,4]", "mipflow-faults");
        try {
            AtomicInteger failedTasks = new AtomicInteger();
            spark.sparkContext().addSparkListener(new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    if (end.taskInfo().failed()) {
                        failedTasks.incrementAndGet();
                    }
                }
            });
            Path model = TestModels.tiny(tmp.resolve("model"));
            DecodeSettings s = new DecodeSettings(model.toString(), new SamplerConfig(SamplingMode.ONESTEP, 2,
                    new int[] {1, 1, 1}), 1, 3, 1, null, RowLimits.DEFAULT, null);
            String latents = tmp.resolve("latents").toString();
            EncodeJob.run(spark, List.of(Path.of("../sample-data/photos").toAbsolutePath().toString()), latents, s, 64, 2);
            String out = tmp.resolve("out").toString();
            DecodeJob.Summary sm = DecodeJob.run(spark,
                    DecodeJob.Request.of(List.of(latents), out, s).withPartitionWrapper(FailOnceMidway::new));
            List<Row> rows = spark.read().parquet(out + "/images").select("id").collectAsList();
            assertEquals(3, rows.size());
            assertEquals(3, rows.stream().map(r -> r.getString(0)).distinct().count());
            assertEquals(0, spark.read().parquet(out + "/errors").count());
            assertEquals(3, sm.decoded());
            spark.sparkContext().listenerBus().waitUntilEmpty(); // listener events are delivered asynchronously
            assertTrue(failedTasks.get() >= 1, "the injected faults made tasks fail: " + failedTasks.get());
        } finally {
            spark.stop();
        }
    }
}
