package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's cluster route for real (scripts/test-standalone-cluster.sh): the one-jar build,
 * a Spark standalone master and worker as JVMs of their own from a SPARK_HOME of Spark's jars,
 * the decode submitted through deploy/submit-standalone.sh, its PNGs byte-identical to an
 * embedded run's. A few minutes (it builds the one jar), so it runs where CI=true (CI sets it, so
 * `.ci/run` stays `mvn -B test`) or with -Dmipflow.standalone=true.
 */
@EnabledIf("wanted")
class StandaloneClusterTest {

    static boolean wanted() {
        return "true".equals(System.getenv("CI")) || Boolean.getBoolean("mipflow.standalone");
    }

    @Test
    void submitStandaloneDecodesTheEmbeddedRunsBytes(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("script.log");
        Process p = new ProcessBuilder(List.of("bash", "scripts/test-standalone-cluster.sh", tmp.resolve("work").toString()))
                .directory(ChildJvm.ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(20, TimeUnit.MINUTES);
        if (!done) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(done, "timed out:\n" + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("standalone: 3 images byte-identical to the embedded run"), out);
    }
}
