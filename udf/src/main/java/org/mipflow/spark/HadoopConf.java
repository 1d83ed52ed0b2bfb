package org.mipflow.spark;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;
import scala.Tuple2;

/**
 * A Hadoop configuration that includes the job's {@code spark.hadoop.*} settings (s3a endpoint
 * and keys, for instance), for file-system calls made outside Spark's readers and writers: on
 * the driver before the session exists, and on executors. A bare {@code new Configuration()}
 * would miss them.
 */
public final class HadoopConf {
    private HadoopConf() {}

    public static Configuration from(SparkConf conf) {
        Configuration c = new Configuration();
        for (Tuple2<String, String> kv : conf.getAll()) {
            if (kv._1().startsWith("spark.hadoop.")) {
                c.set(kv._1().substring("spark.hadoop.".length()), kv._2());
            }
        }
        return c;
    }

    /** In an executor (or a driver with a running SparkContext): that application's settings. */
    public static Configuration current() {
        SparkEnv env = SparkEnv.get();
        return from(env != null ? env.conf() : new SparkConf());
    }
}
