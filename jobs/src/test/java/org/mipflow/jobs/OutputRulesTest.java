package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.output.OutputLease;

/**
 * Nothing lost by a mistaken command (#22): a rerun without --resume or --overwrite is refused and
 * changes nothing; --overwrite replaces only Mipflow's entries and only once the plan is valid;
 * --out inside, equal to or above --input is refused; two runs on one --out: one refuses, the
 * other's output has every id once.
 */
class OutputRulesTest {
    static final String SAMPLE = "../sample-data/latents";
    static final String MODEL = "../models/default";

    static CliTest.Result decode(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("decode", "--input", SAMPLE, "--model", MODEL, "--out", out.toString(),
                "--master", "local[1]", "--threads", "1"));
        a.addAll(List.of(more));
        return CliTest.run(a.toArray(String[]::new));
    }

    /** Every regular file under {@code dir}, by relative path, with its bytes. */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Map<String, String> m = new TreeMap<>();
        try (var st = Files.walk(dir)) {
            for (Path p : st.filter(Files::isRegularFile).toList()) {
                m.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
            }
        }
        return m;
    }

    /** The names in {@code dir}, without the local file system's hidden .crc side files. */
    static List<String> names(Path dir) throws Exception {
        try (var st = Files.list(dir)) {
            return st.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void rerunIsRefusedAndOverwriteReplacesOnlyMipflowsEntriesOnceThePlanIsValid(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("o");
        assertEquals(0, decode(out).code());
        Map<String, String> first = snapshot(out);
        List<String> firstCommits = names(out.resolve("_commits"));

        // The case: a second mode over the same --out, no flag.
        CliTest.Result again = decode(out, "--mode", "multiscale");
        CliTest.assertOneLineError(again, "--out " + out + " holds the output of an earlier run (_commits/, errors/, "
                + "images/, summary.json); add --resume to go on with it or --overwrite to replace it");
        assertEquals(first, snapshot(out), "a refused run changes nothing");

        // --overwrite with a mistake elsewhere, found while parsing and found only by the scan: nothing deleted.
        CliTest.assertOneLineError(decode(out, "--overwrite", "--metrics", "psnr,nope"), "nope");
        Path junk = tmp.resolve("junk.parquet");
        Files.writeString(junk, "this is not parquet");
        CliTest.Result badInput = CliTest.run("decode", "--input", junk.toString(), "--model", MODEL, "--out",
                out.toString(), "--master", "local[1]", "--overwrite");
        CliTest.assertOneLineError(badInput, "no usable input shard");
        assertEquals(first, snapshot(out), "nothing deleted before the plan was valid");
        CliTest.assertOneLineError(decode(out, "--overwrite", "--resume"), "exclude each other");

        Files.writeString(out.resolve("notes.txt"), "the user's own notes");
        Files.createDirectories(out.resolve("mine"));
        Files.writeString(out.resolve("mine").resolve("keep.bin"), "x");
        assertEquals(0, decode(out, "--overwrite", "--seed", "5").code());
        assertEquals("the user's own notes", Files.readString(out.resolve("notes.txt")));
        assertEquals("x", Files.readString(out.resolve("mine").resolve("keep.bin")));
        List<String> commits = names(out.resolve("_commits"));
        assertEquals(1, commits.size(), commits::toString);
        assertFalse(firstCommits.contains(commits.get(0)), "the earlier run's commit record is gone");
        assertEquals(List.of("wave=" + commits.get(0).replace(".json", "")), names(out.resolve("images")),
                "only the new run's images");
        assertEquals(5, JsonParser.parseString(Files.readString(out.resolve("summary.json"))).getAsJsonObject()
                .get("seed").getAsLong());
        assertNotEquals(first.get("summary.json"), snapshot(out).get("summary.json"));
        assertFalse(Files.exists(out.resolve(OutputLease.FILE)), "lease released");
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-output-rules");
        try {
            Map<String, byte[]> images = ResumeTest.images(spark, out.toString());
            assertEquals(3, images.size(), "every sample id once");
        } finally {
            spark.stop();
        }
    }

    @Test
    void outputEqualToInsideOrAboveTheInputIsRefused(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        Path input = data.resolve("latents");
        Files.createDirectories(input);
        Files.copy(Path.of(SAMPLE).resolve(names(Path.of(SAMPLE)).stream().filter(n -> n.endsWith(".parquet"))
                .findFirst().orElseThrow()), input.resolve("part-0.parquet"));
        Map<String, String> before = snapshot(data);
        for (var c : Map.of(input, "is the input", input.resolve("out"), "is inside the input", data,
                "contains the input").entrySet()) {
            CliTest.Result r = CliTest.run("decode", "--input", input.toString(), "--model", MODEL, "--out",
                    c.getKey().toString(), "--master", "local[1]", "--overwrite");
            CliTest.assertOneLineError(r, c.getValue());
        }
        assertEquals(before, snapshot(data), "nothing written or deleted");
    }

    /** Two decodes on one --out in JVMs of their own; the second, even with --overwrite, refuses. */
    @Test
    void secondConcurrentRunIsRefusedAndTheFirstWritesEveryIdOnce(@TempDir Path tmp) throws Exception {
        int shards = 14;
        Path model = TestModels.tiny(tmp.resolve("model"));
        Path input;
        SparkSession spark = SparkTestSession.start("local[1]", "mipflow-output-rules");
        try {
            input = ResumeTest.writeShards(spark, tmp.resolve("input"), shards, "img-");
        } finally {
            spark.stop();
        }
        Path out = tmp.resolve("o");
        Process first = child(input, out, model, tmp.resolve("first.log"));
        Process second = null;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(out.resolve(OutputLease.FILE))) {
                assertTrue(first.isAlive(), () -> "first run ended before taking its lease: " + log(tmp, "first"));
                assertTrue(System.nanoTime() < deadline, "no lease in 120 s");
                Thread.sleep(20);
            }
            second = child(input, out, model, tmp.resolve("second.log"), "--overwrite");
            assertTrue(second.waitFor(180, TimeUnit.SECONDS));
            assertTrue(first.isAlive(), "the first run was still running when the second one checked");
            assertEquals(2, second.exitValue(), log(tmp, "second"));
            assertTrue(log(tmp, "second").contains("--out " + out + " is in use by run run-"), log(tmp, "second"));
            assertTrue(first.waitFor(300, TimeUnit.SECONDS));
            assertEquals(0, first.exitValue(), log(tmp, "first"));
        } finally {
            first.destroyForcibly();
            if (second != null) {
                second.destroyForcibly();
            }
        }
        spark = SparkTestSession.start("local[1]", "mipflow-output-rules");
        try {
            Map<String, byte[]> images = ResumeTest.images(spark, out.toString());
            assertEquals(shards, images.size());
            assertEquals(shards, spark.read().parquet(out + "/images").count(), "every id exactly once");
        } finally {
            spark.stop();
        }
        assertEquals(shards, names(out.resolve("_commits")).size(), "one record per wave, all the first run's");
    }

    private static Process child(Path input, Path out, Path model, Path log, String... more) throws Exception {
        List<String> cmd = ChildJvm.java("1g", ChildJvm.testClassPath());
        cmd.addAll(List.of(Main.class.getName(), "decode", "--input", input.toString(), "--out", out.toString(),
                "--model", model.toString(), "--mode", "onestep", "--threads", "1", "--master", "local[1]",
                "--wave-rows", "1"));
        cmd.addAll(List.of(more));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String log(Path tmp, String which) {
        try {
            return Files.readString(tmp.resolve(which + ".log"), StandardCharsets.UTF_8);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
