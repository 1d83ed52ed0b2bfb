package org.mipflow.jobs.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.cli.UsageException;

/** The lease on the local file system, with its timing shortened through the constructor. */
class OutputLeaseTest {
    static final Configuration CONF = new Configuration();
    static final OutputLease.Timing FAST = new OutputLease.Timing(100, 1_000);

    final ByteArrayOutputStream said = new ByteArrayOutputStream();
    final PrintStream log = new PrintStream(said, true, StandardCharsets.UTF_8);

    /** A lease file as another run on another machine would have left it, last modified {@code ago} ms ago. */
    static void foreignLease(Path dir, long agoMillis) throws IOException {
        Files.createDirectories(dir);
        Path f = dir.resolve(OutputLease.FILE);
        Files.writeString(f, new OutputLease.Holder("run-foreign", "decode", "alice", "elsewhere.example", 4242,
                "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", 7).json());
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().minusMillis(agoMillis)));
    }

    @Test
    void secondRunIsRefusedWhileTheFirstHoldsTheLease(@TempDir Path tmp) throws Exception {
        String out = tmp.resolve("o").toString();
        try (OutputLease first = OutputLease.acquire(out, "decode", CONF, FAST, log)) {
            assertTrue(Files.readString(tmp.resolve("o").resolve(OutputLease.FILE)).contains(first.runId()));
            // Longer than the stale time: the heartbeat keeps it alive.
            Thread.sleep(1_500);
            UsageException e = assertThrows(UsageException.class,
                    () -> OutputLease.acquire(out, "decode", CONF, FAST, log));
            assertTrue(e.getMessage().contains("is in use by run " + first.runId()), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            first.checkHeld();
        }
        assertFalse(Files.exists(tmp.resolve("o")), () -> "released, and the directory it created was empty: "
                + java.util.Arrays.toString(tmp.resolve("o").toFile().list()));
        try (OutputLease again = OutputLease.acquire(out, "decode", CONF, FAST, log)) {
            again.checkHeld();
        }
    }

    @Test
    void liveForeignLeaseRefusesAndStaleOneIsTakenOver(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("o");
        foreignLease(dir, 0);
        UsageException e = assertThrows(UsageException.class,
                () -> OutputLease.acquire(dir.toString(), "decode", CONF, FAST, log));
        assertTrue(e.getMessage().contains("run-foreign (mipflow decode, alice@elsewhere.example pid 4242"),
                e.getMessage());
        assertTrue(e.getMessage().contains("stale 1 s after its last heartbeat"), e.getMessage());

        foreignLease(dir, 5_000);
        try (OutputLease l = OutputLease.acquire(dir.toString(), "decode", CONF, FAST, log)) {
            l.checkHeld();
            assertTrue(said.toString(StandardCharsets.UTF_8).contains("taking over --out " + dir
                    + " from run run-foreign"), said.toString(StandardCharsets.UTF_8));
            assertTrue(said.toString(StandardCharsets.UTF_8).contains("no heartbeat for 5 s"));
        }
        assertTrue(Files.isDirectory(dir), "a directory it did not create stays");
        try (var st = Files.list(dir)) {
            assertEquals(0, st.count(), "no lease, probe or stale copy left");
        }
    }

    @Test
    void deadProcessOnThisHostIsTakenOverAtOnce(@TempDir Path tmp) throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String out = tmp.resolve("o").toString();
        try (OutputLease first = OutputLease.acquire(out, "decode", CONF, OutputLease.Timing.DEFAULT, log)) {
            // Rewritten as if that finished process had taken it: what a SIGKILLed run leaves.
            Path f = tmp.resolve("o").resolve(OutputLease.FILE);
            Files.writeString(f, Files.readString(f).replace("\"pid\":" + ProcessHandle.current().pid(),
                    "\"pid\":" + gone.pid()).replace(first.runId(), "run-killed"));
            assertThrows(IOException.class, first::checkHeld, "the file no longer names it");
            try (OutputLease second = OutputLease.acquire(out, "decode", CONF, OutputLease.Timing.DEFAULT, log)) {
                second.checkHeld();
            }
            assertTrue(said.toString(StandardCharsets.UTF_8).contains("its process (pid " + gone.pid()
                    + " on this host) is gone"), said.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void holderStopsAtTheNextCheckOnceAnotherRunTookOver(@TempDir Path tmp) throws Exception {
        String out = tmp.resolve("o").toString();
        try (OutputLease mine = OutputLease.acquire(out, "decode", CONF, FAST, log)) {
            Path f = tmp.resolve("o").resolve(OutputLease.FILE);
            FileTime before = Files.getLastModifiedTime(f);
            Thread.sleep(400);
            assertTrue(Files.getLastModifiedTime(f).compareTo(before) > 0, "heartbeat rewrites the file");
            foreignLease(tmp.resolve("o"), 0);
            IOException e = assertThrows(IOException.class, mine::checkHeld);
            assertTrue(e.getMessage().contains("taken over by run run-foreign"), e.getMessage());
            Thread.sleep(300);
            assertTrue(Files.readString(f).contains("run-foreign"), "the heartbeat does not write over the new holder");
        }
        assertTrue(Files.readString(tmp.resolve("o").resolve(OutputLease.FILE)).contains("run-foreign"),
                "release leaves another run's lease alone");
    }

    /** The local file system whose reads of the lease fail while {@link #failures} lasts, as a store's 503s do. */
    public static final class FlakyFileSystem extends org.apache.hadoop.fs.RawLocalFileSystem {
        static final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
        static final java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public org.apache.hadoop.fs.FSDataInputStream open(org.apache.hadoop.fs.Path f, int bufferSize)
                throws IOException {
            if (f.getName().equals(OutputLease.FILE) && failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                failed.incrementAndGet();
                throw new IOException("503 Slow Down (simulated)");
            }
            return super.open(f, bufferSize);
        }
    }

    /**
     * Six reads of the lease in a row fail (more than the old fixed retries took): the heartbeat
     * waits them out with backoff, the holder keeps its lease, and a second run is still refused.
     */
    @Test
    void transientReadFailuresDoNotLoseTheLease(@TempDir Path tmp) throws Exception {
        Configuration flaky = new Configuration();
        flaky.set("fs.file.impl", FlakyFileSystem.class.getName());
        flaky.setBoolean("fs.file.impl.disable.cache", true);
        OutputLease.Timing timing = new OutputLease.Timing(100, 8_000);
        String out = tmp.resolve("o").toString();
        try (OutputLease mine = OutputLease.acquire(out, "decode", flaky, timing, log)) {
            Path f = tmp.resolve("o").resolve(OutputLease.FILE);
            FlakyFileSystem.failed.set(0);
            FlakyFileSystem.failures.set(6);
            long t0 = System.nanoTime();
            while (FlakyFileSystem.failures.get() > 0 && System.nanoTime() - t0 < 20e9) {
                Thread.sleep(50);
            }
            assertEquals(6, FlakyFileSystem.failed.get(), "the reads failed");
            FileTime during = Files.getLastModifiedTime(f);
            Thread.sleep(4_000); // the backoff's last waits, then beats again
            mine.checkHeld();
            assertTrue(Files.getLastModifiedTime(f).compareTo(during) > 0, "the heartbeat goes on");
            UsageException e = assertThrows(UsageException.class,
                    () -> OutputLease.acquire(out, "decode", flaky, timing, log));
            assertTrue(e.getMessage().contains("is in use by run " + mine.runId()), e.getMessage());
        } finally {
            FlakyFileSystem.failures.set(0);
        }
    }

    /**
     * A holder paused past the staleness time (a GC stop, a partition) is refused at its next
     * check, the one every commit and --overwrite's removal make first: before a takeover, by its
     * own clock (no heartbeat confirmed for longer than the staleness less one beat), and after it
     * by the lease's generation, the fencing token. Resumed, its heartbeat leaves the new lease alone.
     */
    @Test
    void pausedHolderCannotCommitAfterATakeover(@TempDir Path tmp) throws Exception {
        OutputLease.Timing timing = new OutputLease.Timing(200, 3_000);
        String out = tmp.resolve("o").toString();
        Path f = tmp.resolve("o").resolve(OutputLease.FILE);
        try (OutputLease paused = OutputLease.acquire(out, "decode", CONF, timing, log)) {
            assertEquals(1, paused.generation());
            paused.pauseForTest(true);
            Thread.sleep(3_300);
            IOException before = assertThrows(IOException.class, paused::checkHeld);
            assertTrue(before.getMessage().contains("no heartbeat confirmed for"), before.getMessage());
            try (OutputLease next = OutputLease.acquire(out, "decode", CONF, timing, log)) {
                assertEquals(2, next.generation(), "one more than the lease it took over");
                assertTrue(said.toString(StandardCharsets.UTF_8).contains("taking over --out"));
                paused.pauseForTest(false);
                IOException after = assertThrows(IOException.class, paused::checkHeld);
                assertTrue(after.getMessage().contains("lost its lease"), after.getMessage());
                Thread.sleep(600);
                next.checkHeld();
                assertTrue(Files.readString(f).contains(next.runId()) && Files.readString(f).contains(
                        "\"generation\":2"), Files.readString(f));
            }
        }
    }
}
