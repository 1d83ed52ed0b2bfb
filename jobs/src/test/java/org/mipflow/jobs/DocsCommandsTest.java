package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs the commands the README and docs/*.md show as runnable (```console blocks, docs/README.md
 * "Commands that are tested") and checks their exit codes and the output lines shown. Fast
 * blocks run in the default test run; {@code console slow} blocks only with
 * {@code -Dmipflow.docs.slow=true} (scripts/check-docs.sh).
 *
 * <p>Each block runs in its own directory under target/, whose entries link to the repository
 * root's (all but out/), so the commands see the repository as a user does and write a fresh
 * out/. {@code bin/mipflow ARGS} runs as its own JVM with the test class path and the launcher's
 * JVM options ({@link ChildJvm}): Maven has built the classes, the launcher would build again.
 */
class DocsCommandsTest {
    private static final boolean SLOW = Boolean.getBoolean("mipflow.docs.slow");
    private static final long TIMEOUT_MINUTES = 20;

    @TestFactory
    Stream<DynamicTest> documentedCommandsRunAsShown() {
        List<DocPages.Block> blocks = DocPages.blocks(DocPages.pages());
        assertTrue(blocks.stream().anyMatch(b -> !b.slow()), "no fast console block found in the docs");
        assertTrue(blocks.stream().anyMatch(b -> b.steps().stream().anyMatch(s -> s.command().equals("bin/mipflow decode"))),
                "the README's first command is not among the runnable blocks");
        return blocks.stream().filter(b -> SLOW || !b.slow())
                .map(b -> DynamicTest.dynamicTest(b.where() + (b.slow() ? " (slow)" : ""), () -> run(b)));
    }

    private static void run(DocPages.Block b) throws Exception {
        Path dir = sandbox(b.where());
        for (DocPages.Step s : b.steps()) {
            Path log = dir.resolve(".command.log");
            Process p = new ProcessBuilder(commandLine(s.command())).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                fail(b.where() + ": '" + s.command() + "' did not end within " + TIMEOUT_MINUTES + " min");
            }
            List<String> out = Files.readAllLines(log, StandardCharsets.UTF_8);
            String shown = "\n--- its output:\n" + String.join("\n", out);
            assertEquals(s.exit(), p.exitValue(), b.where() + ": exit code of '" + s.command() + "'" + shown);
            assertEquals(List.of(), DocPages.missingLines(s.output(), out),
                    b.where() + ": lines of '" + s.command() + "' not printed (in this order)" + shown);
        }
    }

    /** A directory whose entries link to the repository root's, but for out/ (each block writes its own). */
    private static Path sandbox(String where) throws IOException {
        Path dir = Path.of("target", "docs-commands", where.replaceAll("[^A-Za-z0-9]+", "-")).toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(f);
                }
            }
        }
        Files.createDirectories(dir);
        try (Stream<Path> entries = Files.list(ChildJvm.ROOT)) {
            for (Path e : entries.toList()) {
                String name = e.getFileName().toString();
                if (!name.equals("out")) {
                    Files.createSymbolicLink(dir.resolve(name), e);
                }
            }
        }
        return dir;
    }

    /** bin/mipflow as a JVM of its own (the launcher's options); anything else through bash. */
    private static List<String> commandLine(String command) throws IOException {
        if (command.startsWith("bin/mipflow")) {
            if (command.matches(".*[|;&<>$'\"\\\\].*")) {
                fail("'" + command + "': a runnable bin/mipflow command is a plain argument list (no quotes, pipes or variables)");
            }
            List<String> cmd = new ArrayList<>(ChildJvm.java("4g", ChildJvm.testClassPath()));
            cmd.add("org.mipflow.jobs.Main");
            String args = command.substring("bin/mipflow".length()).strip();
            if (!args.isEmpty()) {
                cmd.addAll(List.of(args.split("\\s+")));
            }
            return cmd;
        }
        return List.of("bash", "-c", command);
    }
}
