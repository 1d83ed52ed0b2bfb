package org.mipflow.jobs.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.mipflow.spark.HadoopConf;
import org.mipflow.spark.TaskSlots;

/** Driver-side Spark plumbing shared by the jobs. */
public final class SparkSupport {
    private SparkSupport() {}

    /**
     * The session: spark-submit's when launched by it (spark.master is set), otherwise an
     * embedded local one with {@code master} (default local[*]).
     */
    public static SparkSession session(String app, String master) {
        SparkConf conf = new SparkConf(true);
        SparkSession.Builder b = SparkSession.builder().appName(app);
        if (!conf.contains("spark.master")) {
            b.master(master == null ? "local[*]" : master)
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1");
        } else if (master != null) {
            b.master(master);
        }
        SparkSession s = b.getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }

    /** Concurrent tasks per executor JVM (see {@link TaskSlots}). */
    public static int taskSlots(SparkSession s) {
        return TaskSlots.of(s);
    }

    /** libtorch intra-op threads per task (see {@link TaskSlots}). */
    public static int intraOpThreads(SparkSession s) {
        return TaskSlots.intraOpThreads(s);
    }

    /** Expands comma-separated paths and globs; fails with one line when one matches nothing. */
    public static List<String> resolveInputs(String spec) throws UsageException {
        List<String> out = new ArrayList<>();
        for (String p : spec.split(",")) {
            if (p.isBlank()) {
                continue;
            }
            Path path = new Path(p.trim());
            try {
                FileSystem fs = path.getFileSystem(HadoopConf.from(new SparkConf()));
                FileStatus[] st = fs.globStatus(path);
                if (st == null || st.length == 0) {
                    throw new UsageException("input " + p + " does not exist");
                }
                for (FileStatus f : st) {
                    out.add(f.getPath().toString());
                }
            } catch (IOException e) {
                throw new UsageException("cannot read input " + p + ": " + e.getMessage());
            }
        }
        if (out.isEmpty()) {
            throw new UsageException("no input given");
        }
        return out;
    }
}
