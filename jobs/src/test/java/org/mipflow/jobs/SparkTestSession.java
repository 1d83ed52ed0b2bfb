package org.mipflow.jobs;

import org.apache.spark.sql.SparkSession;

/**
 * The one Spark session set-up of the jobs tests: an embedded master, no UI (no port to find),
 * the driver on the loopback address (machines whose host name does not resolve). A test adds
 * what it needs on top of {@link #builder} (shuffle partitions, Hadoop settings) and stops the
 * session when done.
 */
public final class SparkTestSession {
    private SparkTestSession() {}

    public static SparkSession.Builder builder(String master, String app) {
        return SparkSession.builder().master(master).appName(app)
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1");
    }

    public static SparkSession start(String master, String app) {
        return builder(master, app).getOrCreate();
    }

    /** With two shuffle partitions, as the tests that group small data use. */
    public static SparkSession startSmallShuffles(String master, String app) {
        return builder(master, app).config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }
}
