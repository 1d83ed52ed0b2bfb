package org.mipflow.jobs.cli;

/**
 * The log file of an embedded run: bin/mipflow names one per run in the system property
 * {@code mipflow.log}, which conf/log4j2.properties writes to (Spark's, Hadoop's and DJL's
 * warnings, and every stack trace; the terminal gets Mipflow's own lines only).
 */
public final class RunLog {
    public static final String PROPERTY = "mipflow.log";

    private RunLog() {}

    /** Where a failure's details are, for the one line the user sees. */
    public static String where() {
        String log = System.getProperty(PROPERTY);
        return log != null ? log : "the driver's log (MIPFLOW_DEBUG=1 prints them here)";
    }
}
