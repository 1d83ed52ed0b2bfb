package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrong options, missing paths and unreadable inputs: one error line, non-zero exit, no trace. */
class CliTest {
    record Result(int code, String err) {}

    static Result run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            return new Result(Main.run(args), buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(old);
        }
    }

    static void assertOneLineError(Result r, String fragment) {
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void unknownCommandAndOption() {
        assertOneLineError(run("frobnicate"), "unknown command");
        assertOneLineError(run("decode", "--nope"), "unknown option --nope");
        assertOneLineError(run("decode", "--batch-size"), "needs a value");
        assertOneLineError(run("decode", "--batch-size", "x"), "needs an integer");
        assertOneLineError(run("decode", "--precision", "fp16"), "precision 'fp16' is not one of auto, fp32, bf16");
        assertOneLineError(run("decode", "--precision", "bf16", "--layout", "nchw"), "bf16 runs channels-last only");
        assertOneLineError(run("bench", "--numerics", "bf16/nchw"), "bf16 runs channels-last only");
        assertOneLineError(run("bench", "--numerics", "auto/nhwc"), "--numerics takes PRECISION/LAYOUT items");
    }

    @Test
    void missingModelAndInput(@TempDir Path tmp) throws Exception {
        assertOneLineError(run("decode", "--model", tmp.resolve("none").toString()), "does not exist");
        Path model = TestModels.tiny(tmp.resolve("m"));
        assertOneLineError(run("decode", "--model", model.toString(), "--input", tmp.resolve("missing").toString()),
                "does not exist");
        assertOneLineError(run("decode", "--model", model.toString(), "--mode", "fast"), "unknown mode");
    }

    @Test
    void corruptModelIsRefusedBeforeAnyWork(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Path f = model.resolve("encoder.params");
        byte[] b = Files.readAllBytes(f);
        b[100] ^= 4;
        Files.write(f, b);
        assertOneLineError(run("decode", "--model", model.toString()), "corrupt");
    }

    @Test
    void unreadableInputIsOneLine(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Path junk = tmp.resolve("junk.parquet");
        Files.writeString(junk, "this is not parquet");
        Result r = run("decode", "--model", model.toString(), "--input", junk.toString(), "--out",
                tmp.resolve("o").toString(), "--master", "local[1]");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("mipflow decode: error:")), r.err());
    }

    @Test
    void failFastNamesTheFirstBadRow(@TempDir Path tmp) throws Exception {
        // The sample latents have 8 channels, the tiny model takes 4: every row is bad.
        Path model = TestModels.tiny(tmp.resolve("m"));
        Result r = run("decode", "--model", model.toString(), "--input", "../sample-data/latents", "--out",
                tmp.resolve("o").toString(), "--master", "local[1]", "--fail-fast");
        assertOneLineError(r, "--fail-fast: row ");
        assertTrue(r.err().contains("latent has 8 channels; the model takes 4"), r.err());
    }

    record Output(int code, String out, String err) {}

    /** Main.run with stdout and stderr captured. */
    static Output runCapturing(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            Result r = run(args);
            return new Output(r.code(), out.toString(StandardCharsets.UTF_8), r.err());
        } finally {
            System.setOut(oldOut);
        }
    }

    @Test
    void everyRowFailedExitsThreeAndSaysWhyOnScreen(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Output r = runCapturing("decode", "--model", model.toString(), "--input", "../sample-data/latents", "--out",
                tmp.resolve("o").toString(), "--master", "local[1]");
        assertEquals(3, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("input rows 3 = decoded 0 + errors 3"), r.out());
        assertTrue(r.out().contains("errors by reason:\n  3 row(s): latent has 8 channels; the model takes 4 (e.g. id "
                + "cincinnati-bridge)"), r.out());
        assertEquals("mipflow decode: nothing was decoded: every input row went to errors (reasons above); exit code 3",
                r.err().strip());
    }

    @Test
    void someErrorsExitZeroWithReasonsAndSkippedShards(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Path in = tmp.resolve("in");
        assertEquals(0, Main.run(new String[] {"encode", "--input", "../sample-data/photos", "--out",
            in.resolve("good").toString(), "--model", model.toString(), "--size", "64", "--master", "local[1]"}));
        // 8-channel latents under other ids: 3 rows the 4-channel model refuses; and a file that is no Parquet
        org.apache.spark.sql.SparkSession spark = SparkTestSession.start("local[1]", "cli-test");
        try {
            spark.read().parquet("../sample-data/latents").withColumn("id", org.apache.spark.sql.functions.concat(
                    org.apache.spark.sql.functions.col("id"), org.apache.spark.sql.functions.lit("-8ch")))
                    .coalesce(1).write().parquet(in.resolve("wrong").toString());
        } finally {
            spark.stop();
        }
        Files.writeString(in.resolve("notes.parquet"), "not parquet at all");
        Output r = runCapturing("decode", "--model", model.toString(), "--input", in.resolve("good") + ","
                + in.resolve("wrong") + "," + in.resolve("notes.parquet"), "--out", tmp.resolve("o").toString(),
                "--master", "local[1]", "--stage-steps", "1");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("input rows 6 = decoded 3 + errors 3\nerrors by reason:\n  3 row(s): latent has 8 "
                + "channels; the model takes 4 (e.g. id cincinnati-bridge-8ch)\nbad shards skipped: 1 (listed in "
                + "errors/ and summary.json)\n  "), r.out());
        assertTrue(r.out().contains("notes.parquet: "), r.out());
        assertTrue(r.err().isBlank(), r.err());
    }

    @Test
    void messagesSayWhatTheCodeDoes(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        assertOneLineError(run("decode", "--model", model.toString(), "--mode", "fulll"),
                "unknown mode 'fulll' (full, multiscale, onestep or auto)");
        assertOneLineError(run("decode", "--model", model.resolve("model.json").toString()),
                "--model " + model.resolve("model.json") + " is a file; give the model directory that holds it ("
                        + model + ")");
        Path bad = Files.createDirectories(tmp.resolve("bad"));
        Files.writeString(bad.resolve("model.json"), "{\"format\": \"mipflow\"}");
        for (String cmd : new String[] {"encode", "decode"}) {
            Result r = run(cmd, "--model", bad.toString(), "--input", "../sample-data/photos", "--out",
                    tmp.resolve("o-" + cmd).toString());
            assertOneLineError(r, "model.json has no field architecture (is it a Mipflow model?)");
            assertFalse(r.err().contains("Exception"), r.err());
        }
        Result photos = run("decode", "--model", model.toString(), "--input", "../sample-data/photos", "--out",
                tmp.resolve("o").toString(), "--master", "local[1]");
        assertOneLineError(photos, "cincinnati-bridge.jpg: an image, not Parquet latents ('mipflow encode' turns images "
                + "into latents)");
        Output audit = runCapturing("audit", "--help");
        assertTrue(audit.out().contains("where audit.html goes") && !audit.out().contains("audit.json"), audit.out());
        assertTrue(runCapturing("decode", "--help").out().contains("bin/mipflow sets to the repository's .djl-cache"));
        assertFalse(runCapturing("bench", "--help").out().contains("issue 24"));
    }

    @Test
    void aLiveRunIsNamedBeforeTheEarlierOutput(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Path out = tmp.resolve("o");
        try (var lease = org.mipflow.jobs.output.OutputLease.acquire(out.toString(), "decode",
                new org.apache.hadoop.conf.Configuration(), org.mipflow.jobs.output.OutputLease.Timing.DEFAULT,
                System.out)) {
            Files.writeString(out.resolve("summary.json"), "{}");
            for (String policy : new String[] {"--resume", "--dry-run", "--seed=0"}) {
                Result r = run("decode", "--model", model.toString(), "--input", "../sample-data/latents", "--out",
                        out.toString(), policy);
                assertOneLineError(r, "--out " + out + " is in use by run " + lease.runId());
            }
        }
    }

    @Test
    void failuresAreOneLineInWords() {
        Exception spark = new RuntimeException("Job aborted due to stage failure: Task 0 in stage 3.0 failed\n\tat x",
                new java.io.IOException("java.io.FileNotFoundException: File file:/x/y.parquet does not exist"));
        assertEquals("File file:/x/y.parquet does not exist", Main.reason(spark));
        assertEquals("an internal error", Main.reason(new NullPointerException()));
    }

    @Test
    void overviewShowsWholeFirstSentences() {
        String help = Main.overview(Main.commands().values());
        assertTrue(help.contains("  decode       Decodes Parquet latents into PNG images with per-image PSNR/SSIM, on Spark.\n"),
                help);
        assertTrue(help.contains("  encode       Encodes images into a latents Parquet (id, latent, latent_c/h/w, reference) "
                + "with the\n               model's encoder.\n"), help);
        for (String line : help.lines().toList()) {
            assertTrue(line.length() <= 100, line);
        }
    }

    @Test
    void helpListsOptions() {
        assertEquals(0, Main.run(new String[] {"decode", "--help"}));
        assertEquals(0, Main.run(new String[] {"--help"}));
    }
}
