package org.mipflow.jobs;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command lines for tests that run Mipflow or SparkSubmit in a JVM of their own, set up as bin/mipflow does. */
final class ChildJvm {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    private ChildJvm() {}

    /** The test class path (surefire's, not its booter jar). */
    static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    /** The project's JVM options (conf/jvm-options) plus offline DJL and the logging configuration. */
    static List<String> jvmOptions() throws IOException {
        List<String> o = new ArrayList<>(Files.readAllLines(ROOT.resolve("conf/jvm-options")));
        o.add("-Dai.djl.offline=true");
        o.add("-Dlog4j2.configurationFile=" + ROOT.resolve("conf/log4j2.properties"));
        return o;
    }

    /** {@code java -XmxHEAP <jvm options> -cp CP}, to be followed by the main class and its arguments. */
    static List<String> java(String heap, String classPath) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx" + heap);
        cmd.addAll(jvmOptions());
        cmd.addAll(List.of("-cp", classPath));
        return cmd;
    }

    /** The test class path without this module's own classes (target/classes, target/test-classes). */
    static String classPathWithoutThisModule() {
        Path target = Path.of("target").toAbsolutePath();
        return String.join(File.pathSeparator, java.util.Arrays.stream(testClassPath().split(File.pathSeparator))
                .filter(e -> !Path.of(e).toAbsolutePath().startsWith(target)).toList());
    }
}
