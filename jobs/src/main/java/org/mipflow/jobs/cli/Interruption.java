package org.mipflow.jobs.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.apache.hadoop.util.ShutdownHookManager;

/**
 * Ctrl-C and SIGTERM end a command with one line: what the run kept and the command that goes on
 * from there. The JVM answers both signals by running its shutdown hooks; this one runs before
 * Spark's (Hadoop's hook manager runs higher priorities first; Spark stops its context at 40), says
 * its line, then sends the process's further output to the log file: the job failing under the
 * stopped context, and Spark's threads refusing work, are not the user's news.
 */
public final class Interruption {
    /** Above Spark's context shutdown (40) and the file systems' (10). */
    static final int PRIORITY = 100;

    private static volatile String command = "mipflow";
    private static volatile String resumeLine;
    private static volatile Supplier<String> kept = () -> null;
    private static volatile boolean running;
    private static volatile boolean happened;
    private static Runnable hook;

    private Interruption() {}

    /**
     * Armed for one command; {@code resumeLine} is the command line that goes on after an
     * interruption, or null for a command that cannot resume.
     */
    public static synchronized void arm(String name, String resumeLine) {
        command = name;
        Interruption.resumeLine = resumeLine;
        kept = () -> null;
        happened = false;
        running = true;
        if (hook == null) {
            hook = Interruption::interrupted;
            ShutdownHookManager.get().addShutdownHook(hook, PRIORITY);
        }
    }

    /** The command ended (returned or threw): a later JVM exit is no interruption. */
    public static void disarm() {
        running = false;
    }

    /** True once a signal ended the running command; its line has been printed. */
    public static boolean happened() {
        return happened;
    }

    /** What the running command has kept so far, e.g. "2 wave(s) committed (4000 rows)"; null: nothing. */
    public static void keeping(Supplier<String> what) {
        kept = what;
    }

    private static void interrupted() {
        if (!running) {
            return;
        }
        happened = true;
        String what;
        try {
            what = kept.get();
        } catch (RuntimeException e) {
            what = null;
        }
        StringBuilder line = new StringBuilder("mipflow " + command + ": interrupted; ");
        line.append(what == null ? "nothing of this run was kept" : what);
        if (resumeLine != null) {
            line.append("; go on with: ").append(resumeLine);
        }
        System.err.println(line);
        System.err.flush();
        System.out.flush();
        PrintStream rest = new PrintStream(logOrNothing(), true, StandardCharsets.UTF_8);
        System.setOut(rest);
        System.setErr(rest);
    }

    private static OutputStream logOrNothing() {
        String log = System.getProperty(RunLog.PROPERTY);
        if (log != null) {
            try {
                return new FileOutputStream(log, true);
            } catch (IOException e) {
                // nowhere to keep it: dropped
            }
        }
        return OutputStream.nullOutputStream();
    }
}
