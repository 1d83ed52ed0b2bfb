package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mipflow audit} end to end on the sample data and the shipped model (few steps, for speed). */
class AuditCommandTest {
    @Test
    void writesASelfContainedReportOfEveryMode(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("audit");
        int code = Main.run(new String[] {"audit", "--input", "../sample-data/latents", "--model", "../models/default",
            "--sample", "2", "--seed", "3", "--steps", "3", "--stage-steps", "1", "--threads", "2", "--master", "local[1]",
            "--features", FeatureFixture.NETWORK.toString(), "--bootstrap", "50", "--out", out.toString()});
        assertEquals(0, code);
        String html = Files.readString(out.resolve("audit.html"));
        for (String s : new String[] {"full", "multiscale", "onestep", "MS-SSIM", "HaarPSI", "data:image/png;base64,",
            "Data-set figures", "rFID [95% CI]"}) {
            assertTrue(html.contains(s), s);
        }
        assertFalse(html.contains("http://") || html.contains("https://"), "external reference in the report");
        // The same seed samples the same images.
        Path again = tmp.resolve("again");
        Main.run(new String[] {"audit", "--input", "../sample-data/latents", "--model", "../models/default",
            "--sample", "2", "--seed", "3", "--steps", "3", "--stage-steps", "1", "--threads", "2", "--master", "local[1]",
            "--metrics", "psnr", "--out", again.toString()});
        for (String id : new String[] {"cincinnati-bridge", "citrus-fruits", "european-honey-bee"}) {
            assertEquals(html.contains("\"id\">" + id + "<"),
                    Files.readString(again.resolve("audit.html")).contains("\"id\">" + id + "<"),
                    id);
        }
    }
}
