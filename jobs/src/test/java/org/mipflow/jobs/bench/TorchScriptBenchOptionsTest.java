package org.mipflow.jobs.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.Main;

/**
 * bench on a TorchScript export refuses, in one line and before any work, the options it cannot
 * honour for an export (--numerics, --features, --spark-only) and a --device gpu without CUDA.
 */
class TorchScriptBenchOptionsTest {
    static final String FIXTURE = Path.of("../udf/src/test/resources/torchscript").toAbsolutePath().normalize().toString();

    private static String refused(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setErr(old);
        }
        String err = buf.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, err);
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(err.contains("\tat "), err);
        return err;
    }

    @Test
    void optionsAnExportCannotHonourAreRefused(@TempDir Path tmp) {
        String out = tmp.resolve("out").toString();
        assertTrue(refused("bench", "--model", FIXTURE, "--out", out, "--numerics", "fp32/nchw")
                .contains("--numerics does not apply to a TorchScript export"));
        assertTrue(refused("bench", "--model", FIXTURE, "--out", out, "--features", tmp.toString())
                .contains("--features needs reference images"));
        assertTrue(refused("bench", "--model", FIXTURE, "--out", out, "--spark-only")
                .contains("--spark-only"));
        if (ai.djl.engine.Engine.getEngine("PyTorch").getGpuCount() == 0) {
            assertTrue(refused("bench", "--model", FIXTURE, "--out", out, "--device", "gpu")
                    .contains("--device gpu: libtorch sees no CUDA device"));
        }
    }
}
