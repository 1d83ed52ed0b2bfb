package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.cli.Options;

/**
 * Paths typed on the command line are relative to the directory the user runs bin/mipflow in,
 * which the launcher passes as mipflow.cwd while the JVM runs in the repository (here: in jobs/,
 * surefire's directory): encode and decode from another directory read and write there, and
 * nothing lands in the JVM's own directory.
 */
class UserPathsTest {

    @AfterEach
    void forget() {
        System.clearProperty(Options.USER_DIR_PROPERTY);
    }

    @Test
    void encodeAndDecodeFromAnotherDirectoryUseThatDirectory(@TempDir Path tmp) throws Exception {
        Path user = tmp.resolve("user");
        Path clean = Files.createDirectories(user.resolve("clean"));
        try (Stream<Path> s = Files.list(Path.of("../sample-data/photos"))) {
            for (Path p : s.toList()) {
                Files.copy(p, clean.resolve(p.getFileName()));
            }
        }
        TestModels.tiny(user.resolve("m"));
        System.setProperty(Options.USER_DIR_PROPERTY, user.toString());

        assertEquals(0, Main.run(new String[] {"encode", "--input", "clean", "--out", "x", "--model", "m", "--size", "64",
            "--master", "local[1]"}));
        assertTrue(Files.exists(user.resolve("x/_SUCCESS")), "encode wrote under the user's directory");
        assertEquals(0, Main.run(new String[] {"decode", "--input", "x", "--out", "myout", "--model", "m", "--master",
            "local[1]", "--png-dir", "pngs", "--stage-steps", "1"}));
        assertTrue(Files.exists(user.resolve("myout/summary.json")), "decode wrote under the user's directory");
        try (Stream<Path> s = Files.list(user.resolve("pngs"))) {
            assertEquals(3, s.count());
        }
        for (String p : new String[] {"x", "myout", "pngs", "m"}) {
            assertFalse(Files.exists(Path.of(p)), p + " appeared in the JVM's directory");
        }
    }

    @Test
    void defaultsAndNonLocalPathsAreLeftAlone() throws Exception {
        System.setProperty(Options.USER_DIR_PROPERTY, "/home/u/work");
        Options o = Options.parse("decode", new org.mipflow.jobs.decode.DecodeCommand().options(),
                new String[] {"--input", "a, /abs/b,hdfs:///c,s3a://bucket/d*,file:/e", "--png-dir", "../p",
                    "--master", "local[1]"});
        assertEquals("/home/u/work/a,/abs/b,hdfs:///c,s3a://bucket/d*,file:/e", o.get("input"));
        assertEquals("/home/u/p", o.get("png-dir"));
        assertEquals("models/default", o.get("model"), "a default names the repository's copy");
        assertEquals("out/decode", o.get("out"));
        assertEquals("local[1]", o.get("master"));
    }
}
