package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.encode.EncodeJob;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/** Every partition fails once midway; with Spark's task retries every id still comes out exactly once. */
class TaskFaultTest {
    @Test
    void retriedTasksLoseAndDuplicateNothing(@TempDir Path tmp) throws Exception {
        SparkSession spark = SparkSession.builder().master("local[2,4]").appName("mipflow-faults")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.mipflow.test.taskFaultRate", "1.0")
                .getOrCreate();
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
            DecodeJob.Summary sm = DecodeJob.run(spark, List.of(latents), out, s);
            List<Row> rows = spark.read().parquet(out + "/images").select("id").collectAsList();
            assertEquals(3, rows.size());
            assertEquals(3, rows.stream().map(r -> r.getString(0)).distinct().count());
            assertEquals(0, spark.read().parquet(out + "/errors").count());
            assertEquals(3, sm.decoded());
            Thread.sleep(500); // listener events are delivered asynchronously
            assertTrue(failedTasks.get() >= 1, "the injected faults made tasks fail: " + failedTasks.get());
        } finally {
            spark.stop();
        }
    }
}
