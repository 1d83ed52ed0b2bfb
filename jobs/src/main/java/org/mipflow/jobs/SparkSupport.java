package org.mipflow.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.mipflow.spark.HadoopConf;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Driver-side Spark plumbing shared by the jobs. */
final class SparkSupport {
    private SparkSupport() {}

    /**
     * The session: spark-submit's when launched by it (spark.master is set), otherwise an
     * embedded local one with {@code master} (default local[*]).
     */
    static SparkSession session(String app, String master) {
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

    /** Concurrent tasks per executor JVM, from the session's master and configuration. */
    static int taskSlots(SparkSession s) {
        String master = s.sparkContext().master();
        int cores = Runtime.getRuntime().availableProcessors();
        if (master.startsWith("local")) {
            String inner = master.replaceFirst("^local\\[?", "").replaceFirst("[,\\]].*$", "");
            if (inner.isEmpty()) {
                return 1;
            }
            if (inner.equals("*")) {
                return cores;
            }
            try {
                return Math.max(1, Integer.parseInt(inner));
            } catch (NumberFormatException e) {
                return cores;
            }
        }
        int execCores = s.sparkContext().getConf().getInt("spark.executor.cores", 1);
        int taskCpus = s.sparkContext().getConf().getInt("spark.task.cpus", 1);
        return Math.max(1, execCores / taskCpus);
    }

    /**
     * libtorch intra-op threads so that threads x concurrent tasks = cores (DESIGN.md section 4, f):
     * in local mode the machine's cores over the task slots, on a cluster spark.task.cpus.
     */
    static int intraOpThreads(SparkSession s) {
        return intraOpThreads(s, Integer.MAX_VALUE);
    }

    /** As above, when only {@code partitions} tasks can run at once (fewer partitions than slots). */
    static int intraOpThreads(SparkSession s, int partitions) {
        if (s.sparkContext().master().startsWith("local")) {
            int concurrent = Math.max(1, Math.min(taskSlots(s), partitions));
            return Math.max(1, Runtime.getRuntime().availableProcessors() / concurrent);
        }
        return Math.max(1, s.sparkContext().getConf().getInt("spark.task.cpus", 1));
    }

    /** Expands comma-separated paths and globs; fails with one line when one matches nothing. */
    static List<String> resolveInputs(String spec) throws UsageException {
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
