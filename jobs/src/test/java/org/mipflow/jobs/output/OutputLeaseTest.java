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
                "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z").json());
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
}
