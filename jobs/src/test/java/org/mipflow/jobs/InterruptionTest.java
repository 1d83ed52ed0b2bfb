package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.output.OutputLease;

/**
 * What the terminal shows when a decode is interrupted or stopped by --fail-fast, in a JVM of its
 * own set up as bin/mipflow sets it up (log file, logging configuration): one line each, no Java
 * exception text, and nothing left behind that blocks the run that follows.
 */
class InterruptionTest {
    static final int SHARDS = 40;

    @Test
    void sigintSaysWhatWasCommittedAndTheResumeCommandWhichWorks(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("model"));
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-interrupt");
        Path input;
        try {
            input = ResumeTest.writeShards(spark, tmp.resolve("input"), SHARDS, "img-");
        } finally {
            spark.stop();
        }
        Path out = tmp.resolve("out");
        List<String> args = List.of("decode", "--input", input.toString(), "--out", out.toString(), "--model",
                model.toString(), "--mode", "onestep", "--threads", "1", "--master", "local[1]", "--wave-rows", "5");
        Process p = child(tmp, args);
        Path commits = out.resolve("_commits");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!Files.isDirectory(commits) || count(commits) == 0) {
            assertTrue(p.isAlive(), () -> "exited before committing: " + read(tmp.resolve("child.err")));
            assertTrue(System.nanoTime() < deadline, "no wave committed in 180 s");
            Thread.sleep(20);
        }
        // Ctrl-C is SIGINT; a JVM started with SIGINT ignored (a background job without job control)
        // keeps ignoring it, and is then sent SIGTERM, which ends it through the same shutdown path.
        String signal = ignores(p.pid(), 2) ? "TERM" : "INT";
        assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running after SIG" + signal);
        String err = read(tmp.resolve("child.err"));
        assertEquals(signal.equals("INT") ? 130 : 143, p.exitValue(), err);
        List<String> lines = err.strip().lines().toList();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.matches("mipflow decode: interrupted; \\d+ of " + SHARDS + " shard\\(s\\) committed under "
                + java.util.regex.Pattern.quote(out.toString()) + " \\(\\d+ row\\(s\\)\\), \\d+ of this run's \\d+ "
                + "wave\\(s\\); go on with: bin/mipflow decode .* --resume"), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        assertFalse(read(tmp.resolve("child.out")).contains("Exception"), read(tmp.resolve("child.out")));
        assertFalse(Files.exists(out.resolve(OutputLease.FILE)), "the lease was released");

        // the line's own command goes on from there
        String resume = last.substring(last.indexOf("go on with: bin/mipflow ") + "go on with: bin/mipflow ".length());
        assertEquals(0, Main.run(resume.split(" ")));
        String summary = Files.readString(out.resolve("summary.json"));
        assertTrue(summary.contains("\"input_rows\": " + SHARDS) && summary.contains("\"decoded\": " + SHARDS), summary);
        assertFalse(summary.contains("\"resumed_shards\": 0,"), summary);
    }

    @Test
    void failFastIsOneLineAndThePlainRerunIsNotRefused(@TempDir Path tmp) throws Exception {
        // The sample latents have 8 channels, the tiny model takes 4: the first row stops the run.
        Path model = TestModels.tiny(tmp.resolve("model"));
        Path out = tmp.resolve("out");
        List<String> args = new ArrayList<>(List.of("decode", "--input", Path.of("../sample-data/latents")
                .toAbsolutePath().toString(), "--out", out.toString(), "--model", model.toString(), "--master",
                "local[1]"));
        List<String> failFast = new ArrayList<>(args);
        failFast.add("--fail-fast");
        Process p = child(tmp, failFast);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS));
        String err = read(tmp.resolve("child.err"));
        assertEquals(2, p.exitValue(), err);
        // besides the model-load line every run prints (README), the one line
        List<String> lines = err.strip().lines().filter(l -> !l.matches("\\d\\d:\\d\\d:\\d\\d INFO Models: .*")).toList();
        assertEquals(1, lines.size(), err);
        assertTrue(lines.get(0).startsWith("mipflow decode: error: --fail-fast: row "), err);
        assertFalse(read(tmp.resolve("child.out")).contains("Exception"), read(tmp.resolve("child.out")));
        assertTrue(err.contains("latent has 8 channels; the model takes 4"), err);
        assertFalse(Files.exists(out.resolve("_staging")), "staging left behind");

        CliTest.Output rerun = CliTest.runCapturing(args.toArray(String[]::new));
        assertEquals(3, rerun.code(), rerun.out() + rerun.err()); // every row goes to errors, none refused
        assertTrue(rerun.out().contains("input rows 3 = decoded 0 + errors 3"), rerun.out());
    }

    /** bin/mipflow's JVM: its own log file, the project's logging configuration. */
    static Process child(Path tmp, List<String> args) throws Exception {
        List<String> cmd = ChildJvm.java("2g", ChildJvm.testClassPath());
        cmd.add(1, "-Dmipflow.log=" + tmp.resolve("child-run.log"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectOutput(tmp.resolve("child.out").toFile())
                .redirectError(tmp.resolve("child.err").toFile()).start();
    }

    /** Whether process {@code pid} ignores signal {@code sig} (its SigIgn mask in /proc). */
    static boolean ignores(long pid, int sig) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("SigIgn:")) {
                return (Long.parseUnsignedLong(line.substring(7).strip(), 16) & (1L << (sig - 1))) != 0;
            }
        }
        return false;
    }

    static long count(Path commits) throws Exception {
        try (Stream<Path> s = Files.list(commits)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".json")
                    && !f.getFileName().toString().startsWith(".")).count();
        }
    }

    static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (Exception e) {
            return e.toString();
        }
    }
}
