package org.mipflow.spark;

import org.apache.spark.sql.SparkSession;

/**
 * How many tasks an executor JVM runs at once, and so how many libtorch threads each gets:
 * threads x concurrent tasks = cores (intra-op threads beyond the cores only fight each other).
 * Fixed by the session's configuration, never by the data: a row's bytes may depend on the
 * thread count (libtorch's reductions split by thread), so it must not change with the number of
 * partitions or shards.
 */
public final class TaskSlots {
    private TaskSlots() {}

    /** Concurrent tasks per executor JVM, from the session's master and configuration. */
    public static int of(SparkSession s) {
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

    /** libtorch intra-op threads per task: local, the cores over the task slots; on a cluster, spark.task.cpus. */
    public static int intraOpThreads(SparkSession s) {
        if (s.sparkContext().master().startsWith("local")) {
            return Math.max(1, Runtime.getRuntime().availableProcessors() / of(s));
        }
        return Math.max(1, s.sparkContext().getConf().getInt("spark.task.cpus", 1));
    }
}
