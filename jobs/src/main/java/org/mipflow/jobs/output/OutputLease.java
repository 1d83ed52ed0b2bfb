package org.mipflow.jobs.output;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.util.ShutdownHookManager;
import org.mipflow.jobs.cli.UsageException;

/**
 * One run per output directory: a run holds {@code OUT/_lease.json} (its run id, command, user,
 * host, pid, start and heartbeat time) from before it writes anything until it ends, written
 * through the Hadoop FileSystem so that it works wherever the output goes.
 *
 * <ul>
 *   <li>Created exclusively ({@code create(path, false)}, on the local file system an O_EXCL
 *       create), then read back: a second run finds it and refuses, naming the holder.</li>
 *   <li>A daemon thread rewrites it every {@link Timing#heartbeatMillis}, after checking that it
 *       still names this run; {@link #checkHeld} (before each commit) checks the same.</li>
 *   <li>A lease whose file was not modified for {@link Timing#staleAfterMillis} is the lease of
 *       a dead run and is taken over with a message. Age is measured on the storage's clock: the
 *       lease file's modification time against that of a probe file written just now, both
 *       stamped by the same file system (local kernel, HDFS namenode, object store), so clock
 *       skew between the machines of the two runs does not matter. A holder on this host whose
 *       process is gone is dead at once (a pid reused by another process only delays that).</li>
 *   <li>Released (deleted) when the run ends, also on failure and on SIGTERM/Ctrl-C; a SIGKILLed
 *       run leaves it behind until it is stale.</li>
 * </ul>
 *
 * Taking over renames the stale file to a name of this run's own, so of two runs that take over
 * at once only one rename succeeds, and writes the lease with the next generation (one more than
 * the stale one's): run id and generation are the fencing token {@link #checkHeld} compares.
 * Where the store has no exclusive create or atomic rename (S3 through S3A 3.4.2's plain create),
 * the read-back and the check before every commit still stop all but one. Reads of the lease
 * that fail are retried with backoff and, failing still, are an error, never "the lease is gone".
 */
public final class OutputLease implements AutoCloseable {
    public static final String FILE = "_lease.json";

    /**
     * How often the holder writes its heartbeat and after how long without one a lease is stale.
     * {@link #current()} reads the system properties {@code mipflow.lease.heartbeat-ms} and
     * {@code mipflow.lease.stale-ms} (tests shorten them), else {@link #DEFAULT}.
     */
    public record Timing(long heartbeatMillis, long staleAfterMillis) {
        public static final Timing DEFAULT = new Timing(10_000, 60_000);

        public Timing {
            if (heartbeatMillis < 1 || staleAfterMillis < 2 * heartbeatMillis) {
                throw new IllegalArgumentException("lease heartbeat " + heartbeatMillis + " ms and staleness "
                        + staleAfterMillis + " ms: staleness must be at least twice the heartbeat");
            }
        }

        public static Timing current() {
            return new Timing(Long.getLong("mipflow.lease.heartbeat-ms", DEFAULT.heartbeatMillis),
                    Long.getLong("mipflow.lease.stale-ms", DEFAULT.staleAfterMillis));
        }
    }

    /** Who holds a lease, as its file says. */
    public record Holder(String runId, String command, String user, String host, long pid, String started,
            String heartbeat, long generation) {
        String describe() {
            return runId + " (mipflow " + command + ", " + user + "@" + host + " pid " + pid + ", started " + started
                    + ")";
        }

        Holder beating() {
            return new Holder(runId, command, user, host, pid, started, now(), generation);
        }

        /** The same holder as the next generation (one more than the lease it takes over). */
        Holder after(long previous) {
            return new Holder(runId, command, user, host, pid, started, heartbeat, previous + 1);
        }

        /** Whether the lease file {@code other} is this holder's: run id and generation, the fencing token. */
        boolean same(Holder other) {
            return other != null && other.runId.equals(runId) && other.generation == generation;
        }

        String json() {
            JsonObject o = new JsonObject();
            o.addProperty("run_id", runId);
            o.addProperty("command", command);
            o.addProperty("user", user);
            o.addProperty("host", host);
            o.addProperty("pid", pid);
            o.addProperty("started", started);
            o.addProperty("heartbeat", heartbeat);
            o.addProperty("generation", generation);
            return o + "\n";
        }

        static Holder parse(String json) {
            JsonObject o = JsonParser.parseString(json).getAsJsonObject();
            return new Holder(o.get("run_id").getAsString(), o.get("command").getAsString(),
                    o.get("user").getAsString(), o.get("host").getAsString(), o.get("pid").getAsLong(),
                    o.get("started").getAsString(), o.get("heartbeat").getAsString(),
                    o.has("generation") ? o.get("generation").getAsLong() : 0);
        }
    }

    private final FileSystem fs;
    private final Path dir;
    private final Path file;
    private final boolean createdDir;
    private volatile Holder me;
    private final Timing timing;
    private final ScheduledExecutorService beat;
    private final Runnable onShutdown = this::release;
    private volatile long lastBeatNanos = System.nanoTime();
    private volatile String lost;
    private boolean released;

    private OutputLease(FileSystem fs, Path dir, boolean createdDir, Holder me, Timing timing) {
        this.fs = fs;
        this.dir = dir;
        this.file = new Path(dir, FILE);
        this.createdDir = createdDir;
        this.me = me;
        this.timing = timing;
        this.beat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mipflow-lease-heartbeat");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Takes the lease on {@code out} (creating the directory), or refuses with one line naming the
     * live holder; a dead holder's lease is taken over with a line on {@code log}.
     */
    public static OutputLease acquire(String out, String command, Configuration conf, Timing timing, PrintStream log)
            throws UsageException, IOException {
        Path dir = new Path(out);
        FileSystem fs = unchecksummed(dir.getFileSystem(conf));
        dir = fs.makeQualified(dir);
        boolean existed = fs.exists(dir);
        if (!fs.mkdirs(dir)) {
            throw new IOException("cannot create output directory " + out);
        }
        Path file = new Path(dir, FILE);
        Holder me = new Holder("run-" + UUID.randomUUID().toString().substring(0, 8), command,
                System.getProperty("user.name", "?"), host(), ProcessHandle.current().pid(), now(), now(), 1);
        for (int attempt = 0; attempt < 5; attempt++) {
            if (createExclusive(fs, file, me.json())) {
                Holder back = readOrNull(fs, file);
                if (me.same(back)) {
                    OutputLease lease = new OutputLease(fs, dir, !existed, me, timing);
                    lease.start();
                    return lease;
                }
                continue; // another run's create won on a store without exclusive create
            }
            Holder other = readOrNull(fs, file);
            Long age = ageMillis(fs, dir, file, me.runId());
            if (age == null) {
                continue; // released meanwhile
            }
            String dead = deadBecause(other, age, timing);
            String who = other == null ? "an unreadable lease" : "run " + other.describe();
            if (dead == null) {
                throw inUse(out, who, age, timing);
            }
            log.println("lease: taking over --out " + out + " from " + who + ": " + dead);
            // the next generation: a paused holder of the old one finds its token outdated at its next check
            me = me.after(other == null ? 0 : other.generation());
            Path aside = new Path(dir, FILE + "." + me.runId() + ".stale");
            try {
                if (fs.rename(file, aside)) {
                    fs.delete(aside, false);
                }
            } catch (FileNotFoundException e) {
                // another run took it over first; the next attempt sees its lease
            }
        }
        throw new IOException("the lease on " + out + " kept changing hands; try again");
    }

    private static UsageException inUse(String out, String who, long age, Timing timing) {
        return new UsageException("--out " + out + " is in use by " + who + ", last heartbeat "
                + age / 1000 + " s ago; one output takes one run at a time. If that run is dead, its lease "
                + "goes stale " + timing.staleAfterMillis() / 1000 + " s after its last heartbeat: run again "
                + "then (with --resume to keep what it committed)");
    }

    /**
     * Refuses while a live run holds the lease on {@code out}, before any other check of it: a run
     * that finds another run's output is told first that the output is in use, not that it should
     * add --resume. Takes no lease; writes nothing but the age probe, and only when a lease is there.
     */
    public static void refuseIfLive(String out, Configuration conf) throws UsageException, IOException {
        Path dir = new Path(out);
        FileSystem fs = unchecksummed(dir.getFileSystem(conf));
        Path file = new Path(fs.makeQualified(dir), FILE);
        if (!fs.exists(file)) {
            return;
        }
        Holder other = read(fs, file);
        Long age = ageMillis(fs, file.getParent(), file, "check-" + UUID.randomUUID().toString().substring(0, 8));
        Timing timing = Timing.current();
        if (age != null && deadBecause(other, age, timing) == null) {
            throw inUse(out, other == null ? "an unreadable lease" : "run " + other.describe(), age, timing);
        }
    }

    public String runId() {
        return me.runId();
    }

    /** The lease's generation, one more than that of the lease it took over (the fencing token). */
    public long generation() {
        return me.generation();
    }

    /**
     * Throws unless this run still holds the lease: called before every commit and before
     * --overwrite removes anything, so a run that lost it stops before it writes into another
     * run's output. Two checks: the lease file names this run and generation (the fencing token),
     * and this run's last confirmed heartbeat is younger than the staleness time less one
     * heartbeat, by this JVM's monotonic clock. The second stops a holder that was paused (a long
     * GC, a network partition) while the file still names it, before anyone can take it over: a
     * takeover needs the file unmodified for the whole staleness time.
     */
    public void checkHeld() throws IOException {
        long sinceBeat = System.nanoTime() - lastBeatNanos;
        if (lost == null && sinceBeat > TimeUnit.MILLISECONDS.toNanos(timing.staleAfterMillis() - timing.heartbeatMillis())) {
            lost = "no heartbeat confirmed for " + TimeUnit.NANOSECONDS.toMillis(sinceBeat) + " ms, and the lease goes "
                    + "stale after " + timing.staleAfterMillis() + " ms";
        }
        if (lost == null) {
            Holder now = read(fs, file); // a read that keeps failing throws: not verified, not committed
            if (!me.same(now)) {
                lost = lostTo(now);
            }
        }
        if (lost != null) {
            throw new IOException("run " + me.runId() + " lost its lease on " + dir + " (" + lost + "); stopped "
                    + "before committing more");
        }
    }

    /** Stops the heartbeat and deletes the lease if it is still this run's; idempotent. */
    @Override
    public void close() {
        ShutdownHookManager.get().removeShutdownHook(onShutdown);
        release();
    }

    private synchronized void release() {
        if (released) {
            return;
        }
        released = true;
        // No interrupt: a beat cut short in its write would leave its temporary file behind.
        beat.shutdown();
        try {
            beat.awaitTermination(30, TimeUnit.SECONDS);
            Holder now = readOrNull(fs, file);
            if (me.same(now)) {
                fs.delete(file, false);
            }
            if (createdDir && fs.listStatus(dir).length == 0) {
                fs.delete(dir, false);
            }
        } catch (IOException e) {
            System.err.println("lease: could not release " + file + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void start() {
        // Before Hadoop's own hook closes the file systems.
        ShutdownHookManager.get().addShutdownHook(onShutdown, FileSystem.SHUTDOWN_HOOK_PRIORITY + 1);
        beat.scheduleWithFixedDelay(this::heartbeat, timing.heartbeatMillis(), timing.heartbeatMillis(),
                TimeUnit.MILLISECONDS);
    }

    private void heartbeat() {
        if (pausedForTest) {
            return;
        }
        try {
            long t0 = System.nanoTime();
            // A read that fails (an S3 503, a NameNode failover) is retried with backoff inside read
            // and, failing still, this beat is skipped: never taken for "the lease is gone".
            Holder now = read(fs, file);
            if (!me.same(now)) {
                lost = lostTo(now);
                beat.shutdown();
                return;
            }
            overwrite(fs, file, me.beating().json(), me.runId());
            lastBeatNanos = t0; // confirmed as of the read that found the file still ours
        } catch (IOException | RuntimeException e) {
            // Retried at the next beat; checkHeld gives up once none landed for the stale time.
        }
    }

    /** Test seam: a paused holder (a long GC stop, a partition) writes no heartbeat until resumed. */
    private volatile boolean pausedForTest;

    void pauseForTest(boolean paused) {
        pausedForTest = paused;
    }

    private static String lostTo(Holder now) {
        return now == null ? "its lease file is gone" : "taken over by run " + now.describe() + ", generation "
                + now.generation();
    }

    /** Why the holder is dead, or null while it may be alive. */
    private static String deadBecause(Holder h, long ageMillis, Timing timing) {
        if (h != null && h.host().equals(host()) && h.pid() != ProcessHandle.current().pid()
                && ProcessHandle.of(h.pid()).map(p -> !p.isAlive()).orElse(true)) {
            return "its process (pid " + h.pid() + " on this host) is gone";
        }
        if (ageMillis >= timing.staleAfterMillis()) {
            return "no heartbeat for " + ageMillis / 1000 + " s (stale after " + timing.staleAfterMillis() / 1000
                    + " s)";
        }
        return null;
    }

    /**
     * The lease file's age on the storage's clock: a probe file is written, and the two
     * modification times compared. Null if the lease file is gone.
     */
    private static Long ageMillis(FileSystem fs, Path dir, Path file, String runId) throws IOException {
        Path probe = new Path(dir, FILE + "." + runId + ".probe");
        try (OutputStream os = fs.create(probe, true)) {
            os.write('\n');
        }
        try {
            long storageNow = fs.getFileStatus(probe).getModificationTime();
            FileStatus st = fs.getFileStatus(file);
            return Math.max(0, storageNow - st.getModificationTime());
        } catch (FileNotFoundException e) {
            return null;
        } finally {
            fs.delete(probe, false);
        }
    }

    /** True if this call created the file; false if it was there. */
    private static boolean createExclusive(FileSystem fs, Path file, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        if (fs instanceof RawLocalFileSystem local) {
            // RawLocalFileSystem.create(path, false) checks, then opens: not atomic. CREATE_NEW is O_EXCL.
            try {
                java.nio.file.Files.write(local.pathToFile(file).toPath(), b, java.nio.file.StandardOpenOption.CREATE_NEW,
                        java.nio.file.StandardOpenOption.WRITE);
                return true;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            }
        }
        try (OutputStream os = fs.create(file, false)) {
            os.write(b);
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            // HDFS reports a file another client is still creating with its own exception types.
            if (fs.exists(file)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Replaces the content. Locally through a rename, which replaces atomically; elsewhere by
     * overwriting (object stores publish on close; HDFS readers retry, see {@link #read}).
     */
    private static void overwrite(FileSystem fs, Path file, String json, String runId) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        if (fs instanceof RawLocalFileSystem) {
            Path tmp = new Path(file.getParent(), FILE + "." + runId + ".tmp");
            try (OutputStream os = fs.create(tmp, true)) {
                os.write(b);
            }
            if (!fs.rename(tmp, file)) {
                throw new IOException("could not rename " + tmp + " to " + file);
            }
            return;
        }
        try (OutputStream os = fs.create(file, true)) {
            os.write(b);
        }
    }

    /** Reads of the lease: tries, and the first wait between them (doubled after each). */
    static final int READ_TRIES = 7;
    static final long READ_BACKOFF_MS = 50;

    /**
     * The holder, or null only if there is no lease file. A read error (a 503 from an object
     * store, a NameNode failover) or unreadable content (a write in progress) is retried with
     * exponential backoff (50 ms doubling, about 3 s in all) and then thrown, never taken for a
     * missing lease.
     */
    static Holder read(FileSystem fs, Path file) throws IOException {
        Exception last = null;
        for (int attempt = 0; attempt < READ_TRIES; attempt++) {
            if (attempt > 0) {
                try {
                    Thread.sleep(READ_BACKOFF_MS << (attempt - 1));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while reading " + file, e);
                }
            }
            try (InputStream in = fs.open(file)) {
                return Holder.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (FileNotFoundException e) {
                return null;
            } catch (RuntimeException | IOException e) {
                last = e;
            }
        }
        throw new IOException("could not read the lease " + file + " in " + READ_TRIES + " tries: " + last.getMessage(),
                last);
    }

    /** {@link #read}, with a lease that cannot be read counted as no holder (for refusals and release only). */
    private static Holder readOrNull(FileSystem fs, Path file) {
        try {
            return read(fs, file);
        } catch (IOException e) {
            return null;
        }
    }

    /** The local file system without its .crc side files, which a rename-over would leave stale. */
    private static FileSystem unchecksummed(FileSystem fs) {
        return fs instanceof LocalFileSystem local ? local.getRawFileSystem() : fs;
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static String host() {
        return HOST;
    }

    private static final String HOST = localHost();

    private static String localHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return System.getenv().getOrDefault("HOSTNAME", "unknown-host");
        }
    }
}
