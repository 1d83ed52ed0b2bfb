package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Validate, then delete (#29): every command that writes a directory parses all its options,
 * loads its models and feature networks and checks its inputs before --overwrite removes an
 * earlier run's output. For each, an output that holds an earlier run's entry and an --overwrite
 * with a mistake in an option read late: one line, exit 2, no exception text, nothing deleted.
 */
class OverwriteValidatesFirstTest {
    static final String SAMPLE = "../sample-data/latents";
    static final String MODEL = "../models/default";

    record Case(String command, String earlier, String fragment, List<String> args) {}

    @Test
    void aBadLaterOptionDeletesNothingInAnyWritingCommand(@TempDir Path tmp) throws Exception {
        Path photos = tmp.resolve("photos");
        Files.createDirectories(photos);
        StringBuilder list = new StringBuilder();
        try (var st = Files.list(Path.of("../sample-data/photos"))) {
            for (Path p : st.filter(p -> p.toString().endsWith(".jpg")).sorted().toList()) {
                Files.copy(p, photos.resolve(p.getFileName()));
                list.append(p.getFileName()).append('\n');
            }
        }
        Path lst = tmp.resolve("photos.lst");
        Files.writeString(lst, list.toString());
        Path emptyManifest = tmp.resolve("bad-net");
        Files.createDirectories(emptyManifest);
        Files.writeString(emptyManifest.resolve("model.json"), "{}");
        String p = photos.toString();
        String l = lst.toString();
        String bad = emptyManifest.toString();

        List<Case> cases = List.of(
                new Case("decode", "summary.json", "float64", List.of("--input", SAMPLE, "--model", MODEL, "--master",
                        "local[1]", "--latent-dtype", "float64")),
                new Case("encode", "_SUCCESS", "--batch-size", List.of("--input", "../sample-data/photos", "--model", MODEL, "--master",
                        "local[1]", "--batch-size", "0")),
                new Case("eval", "eval.json", "unknown mode 'nope'", List.of("--model", MODEL, "--photos", p, "--list", l,
                        "--size", "32", "--modes", "full,nope")),
                new Case("audit", "audit.html", "lacks the field(s) format, module", List.of("--input", SAMPLE,
                        "--model", MODEL, "--master", "local[1]", "--features", bad)),
                new Case("bench", "bench.md", "--device is cpu or gpu", List.of("--model", MODEL, "--photos", p, "--list", l,
                        "--size", "32", "--images", "1", "--device", "tpu")),
                new Case("scale-bench", "scale.md", "--dry-run-shards", List.of("--model", MODEL, "--dry-run-shards",
                        "10,x")),
                new Case("train", "model.json", "--steps", List.of("--photos", p, "--list", l, "--steps", "0")),
                new Case("distill", "model.json", "has no field format", List.of("--photos", p,
                        "--list", l, "--teacher", bad)));
        // Other runs on this machine may hold the UI's port, and Spark warns on stderr when it moves on.
        String ui = System.setProperty("spark.ui.enabled", "false");
        try {
            check(tmp, cases);
        } finally {
            if (ui == null) {
                System.clearProperty("spark.ui.enabled");
            } else {
                System.setProperty("spark.ui.enabled", ui);
            }
        }
    }

    private static void check(Path tmp, List<Case> cases) throws Exception {
        for (Case c : cases) {
            Path out = tmp.resolve("out-" + c.command());
            Files.createDirectories(out);
            Files.writeString(out.resolve(c.earlier()), "an earlier run's " + c.earlier());
            Files.writeString(out.resolve("notes.txt"), "the user's");
            Map<String, String> before = OutputRulesTest.snapshot(out);
            List<String> args = new ArrayList<>(List.of(c.command(), "--out", out.toString(), "--overwrite"));
            args.addAll(c.args());
            CliTest.Result r = CliTest.run(args.toArray(String[]::new));
            CliTest.assertOneLineError(r, c.fragment());
            assertEquals(before, OutputRulesTest.snapshot(out), c.command() + ": nothing deleted");
        }
    }
}
