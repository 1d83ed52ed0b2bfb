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

    @Test
    void helpListsOptions() {
        assertEquals(0, Main.run(new String[] {"decode", "--help"}));
        assertEquals(0, Main.run(new String[] {"--help"}));
    }
}
