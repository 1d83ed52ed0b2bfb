package org.mipflow.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;

/** The option groups the commands share: each parses its options, checks them and describes itself. */
class OptionGroupsTest {
    private static final java.util.Set<SamplingMode> ALL = java.util.Set.copyOf(SamplingMode.offered(true));
    private static final java.util.Set<SamplingMode> NO_STUDENT = java.util.Set.copyOf(SamplingMode.offered(false));

    private static Options parse(List<Options.Spec> specs, String... args) throws UsageException {
        return Options.parse("test", specs, args);
    }

    @Test
    void aWeightIsAFiniteNumberOfZeroOrMore() throws UsageException {
        List<Options.Spec> specs = List.of(Options.Spec.value("w", "X", "0", "a weight"));
        assertEquals(0.5, parse(specs, "--w", "0.5").getWeight("w"));
        assertEquals(0.0, parse(specs).getWeight("w"));
        for (String bad : List.of("-1", "NaN", "Infinity")) {
            UsageException e = assertThrows(UsageException.class, () -> parse(specs, "--w", bad).getWeight("w"));
            assertTrue(e.getMessage().contains("--w must be a finite number >= 0"), e.getMessage());
        }
    }

    @Test
    void aListOfIntegersHasItsCountAndRange() throws UsageException {
        List<Options.Spec> specs = List.of(Options.Spec.value("w", "A,B,C", null, "three widths"));
        assertArrayEquals(new int[] {16, 32, 64}, parse(specs, "--w", "16, 32,64").optionalInts("w", 3, 8, 512));
        assertEquals(null, parse(specs).optionalInts("w", 3, 8, 512));
        for (String[] bad : List.of(new String[] {"16,32", "needs 3 comma-separated integers"},
                new String[] {"16,32,64,128", "needs 3 comma-separated integers"},
                new String[] {"16,x,64", "--w needs an integer, got 'x'"},
                new String[] {"16,32,4", "--w must be in 8..512, got 4"})) {
            UsageException e = assertThrows(UsageException.class,
                    () -> parse(specs, "--w", bad[0]).optionalInts("w", 3, 8, 512));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
    }

    @Test
    void samplingWithAndWithoutMode() throws Exception {
        List<Options.Spec> specs = SamplingOptions.specs("mode help");
        SamplerConfig def = SamplingOptions.parse(parse(specs)).config(3, true, ALL, "m");
        assertEquals(SamplingMode.ONESTEP, def.mode(), "no --mode: auto, the fastest the model has");
        assertEquals(SamplingMode.MULTISCALE, SamplingOptions.parse(parse(specs, "--mode", "auto"))
                .config(3, false, NO_STUDENT, "m").mode(), "auto without a student");
        UsageException noStudent = assertThrows(UsageException.class,
                () -> SamplingOptions.parse(parse(specs, "--mode", "onestep")).config(3, false, NO_STUDENT, "m"));
        assertTrue(noStudent.getMessage().contains("model m has no one-step student"), noStudent.getMessage());
        SamplerConfig c = SamplingOptions.parse(parse(specs, "--mode", "multiscale", "--stage-steps", "4,3,2"))
                .config(3, true, ALL, "m");
        assertEquals(SamplingMode.MULTISCALE, c.mode());
        assertArrayEquals(new int[] {4, 3, 2}, c.stageSteps());
        assertEquals(SamplerConfig.DEFAULT_FULL_STEPS, c.fullSteps());
        UsageException e = assertThrows(UsageException.class,
                () -> SamplingOptions.parse(parse(specs, "--stage-steps", "1,2")).config(3, true, ALL, "m"));
        assertTrue(e.getMessage().contains("--stage-steps needs 1 or 3 values"), e.getMessage());
        // Commands that run every mode take no --mode.
        List<Options.Spec> noMode = SamplingOptions.specs(null);
        assertThrows(UsageException.class, () -> parse(noMode, "--mode", "full"));
        var modes = SamplingOptions.parse(parse(noMode, "--steps", "7")).everyMode(3, false);
        assertEquals(List.of("full", "multiscale"), new ArrayList<>(modes.keySet()));
        assertEquals(7, modes.get("full").forwardPasses(3));
    }

    @Test
    void batchingSettingsAreAutoOrSet() throws Exception {
        List<Options.Spec> specs = BatchingOptions.specs();
        assertEquals(Batching.AUTO, BatchingOptions.parse(parse(specs)).batching());
        Batching set = BatchingOptions.parse(parse(specs, "--batch-size", "12", "--rows-per-call", "4",
                "--memory-budget", "32")).batching();
        assertEquals(new Batching(12, 4, 32L << 20), set);
        assertEquals("rows per network call 4, rows per task batch 12, memory budget 32 MiB",
                BatchingOptions.parse(parse(specs, "--batch-size", "12", "--rows-per-call", "4", "--memory-budget", "32"))
                        .describe());
        UsageException e = assertThrows(UsageException.class,
                () -> BatchingOptions.parse(parse(specs, "--rows-per-call", "0")));
        assertTrue(e.getMessage().contains("--rows-per-call must be in 1..4096"), e.getMessage());
    }

    @Test
    void numericsRefuseWhatNoDeviceRuns() throws Exception {
        List<Options.Spec> specs = NumericsOptions.specs();
        assertEquals(NumericPath.Request.AUTO, NumericsOptions.parse(parse(specs)).request());
        UsageException e = assertThrows(UsageException.class,
                () -> NumericsOptions.parse(parse(specs, "--precision", "bf16", "--layout", "nchw")));
        assertTrue(e.getMessage().contains("bf16 runs channels-last only"), e.getMessage());
    }

    @Test
    void photosMustExist(@TempDir Path tmp) throws Exception {
        List<Options.Spec> specs = PhotoOptions.specs(PhotoOptions.DEV_LIST, "list");
        UsageException e = assertThrows(UsageException.class,
                () -> PhotoOptions.parse(parse(specs, "--photos", tmp.resolve("none").toString())));
        assertTrue(e.getMessage().contains("run scripts/fetch-photos.sh first"), e.getMessage());
        e = assertThrows(UsageException.class, () -> PhotoOptions.parse(parse(specs, "--photos", tmp.toString(),
                "--list", tmp.resolve("none.lst").toString())));
        assertTrue(e.getMessage().contains("cannot be read"), e.getMessage());
        Path list = Files.writeString(tmp.resolve("a.lst"), "x.jpg\n");
        PhotoOptions p = PhotoOptions.parse(parse(specs, "--photos", tmp.toString(), "--list", list.toString()));
        assertEquals(list, p.list());
    }

    @Test
    void theCommandLineIsKeptAsTyped() throws Exception {
        Options o = Options.parse("train", SamplingOptions.specs(null), new String[] {"--steps", "5"});
        assertEquals("bin/mipflow train --steps 5", o.commandLine());
        assertEquals("bin/mipflow train", Options.parse("train", List.of(), new String[0]).commandLine());
    }
}
