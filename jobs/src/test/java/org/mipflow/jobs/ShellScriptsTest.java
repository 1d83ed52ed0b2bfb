package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The launcher and the deploy and helper scripts parse and are clean under Debian's shellcheck
 * (scripts/install-test-deps.sh unpacks it into target/tools when the PATH has none): one stray
 * quote in deploy/spark-submit.sh once broke every cluster submit.
 */
class ShellScriptsTest {

    static List<String> scripts() throws IOException {
        List<String> all = new ArrayList<>(List.of("bin/mipflow"));
        for (String dir : List.of("deploy", "scripts")) {
            try (Stream<Path> s = Files.list(ChildJvm.ROOT.resolve(dir))) {
                s.filter(p -> p.toString().endsWith(".sh")).map(p -> dir + "/" + p.getFileName()).sorted()
                        .forEach(all::add);
            }
        }
        return all;
    }

    static String shellcheck() {
        Path unpacked = ChildJvm.ROOT.resolve("target/tools/shellcheck/usr/bin/shellcheck");
        if (Files.isExecutable(unpacked)) {
            return unpacked.toString();
        }
        for (String dir : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(dir, "shellcheck"))) {
                return Path.of(dir, "shellcheck").toString();
            }
        }
        throw new AssertionError("no shellcheck: scripts/install-test-deps.sh unpacks Debian's into " + unpacked);
    }

    static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(ChildJvm.ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", cmd));
        return new Result(p.exitValue(), out);
    }

    record Result(int code, String out) {}

    @Test
    void everyScriptParses() throws Exception {
        List<String> scripts = scripts();
        assertTrue(scripts.contains("deploy/spark-submit.sh") && scripts.contains("deploy/submit-standalone.sh"), scripts.toString());
        for (String s : scripts) {
            String shell = Files.readString(ChildJvm.ROOT.resolve(s)).startsWith("#!/bin/sh") ? "sh" : "bash";
            Result r = run(List.of(shell, "-n", s));
            assertEquals(0, r.code(), s + ": " + r.out());
        }
    }

    @Test
    void shellcheckIsClean() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(shellcheck()));
        cmd.addAll(scripts());
        Result r = run(cmd);
        assertEquals(0, r.code(), r.out());
        assertFalse(r.out().contains("SC"), r.out());
    }
}
