package org.mipflow.jobs.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.jobs.audit.AuditData.Decoded;
import org.mipflow.jobs.audit.AuditData.Image;
import org.mipflow.jobs.audit.AuditData.Run;
import org.mipflow.jobs.audit.AuditData.Speed;

class AuditReportTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final int SIZE = 128;
    static final int BLOCK = 48; // a pure magenta square in every image, to find them in a screenshot
    static final String HOSTILE_ID = "<script>alert(\"x\")</script>&'";

    // ---------------------------------------------------------------- synthetic audit

    /** A gradient with noise and a magenta block; {@code seed} varies the picture. */
    static BufferedImage original(int seed) {
        Random rnd = new Random(seed);
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int r = clamp(x * 2 + rnd.nextInt(16));
                int g = clamp(y * 2 + seed * 20 + rnd.nextInt(16));
                int b = clamp(255 - x - y / 2 + rnd.nextInt(16));
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        paintBlock(img);
        return img;
    }

    static void paintBlock(BufferedImage img) {
        for (int y = 8; y < 8 + BLOCK; y++) {
            for (int x = 8; x < 8 + BLOCK; x++) {
                img.setRGB(x, y, 0xFF00FF);
            }
        }
    }

    /** The original plus Gaussian noise of {@code sigma} levels (the block left intact). */
    static BufferedImage noisy(BufferedImage src, double sigma, long seed) {
        Random rnd = new Random(seed);
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int p = src.getRGB(x, y);
                int r = clamp((p >> 16 & 255) + (int) Math.round(rnd.nextGaussian() * sigma));
                int g = clamp((p >> 8 & 255) + (int) Math.round(rnd.nextGaussian() * sigma));
                int b = clamp((p & 255) + (int) Math.round(rnd.nextGaussian() * sigma));
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        paintBlock(img);
        return img;
    }

    static double psnr(BufferedImage a, BufferedImage b) {
        double se = 0;
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int s = 0; s <= 16; s += 8) {
                    double d = (p >> s & 255) - (q >> s & 255);
                    se += d * d;
                }
            }
        }
        return 10 * Math.log10(255.0 * 255.0 / (se / (3.0 * SIZE * SIZE)));
    }

    static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static Decoded decoded(BufferedImage orig, BufferedImage dec, double quality) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("psnr", psnr(dec, orig));
        m.put("ssim", 0.80 + 0.15 * quality);
        m.put("ms_ssim", 0.85 + 0.12 * quality);
        m.put("haarpsi", 0.60 + 0.30 * quality);
        return new Decoded(png(dec), m);
    }

    /**
     * {@code n} images in all three modes; onestep's noise grows with the index, so the last
     * image is the worst case. The hostile id is the second image.
     */
    static AuditData sample(int n, List<String> modes) {
        Map<String, Double> sigma = Map.of("full", 3.0, "multiscale", 5.0, "onestep", 8.0);
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage orig = original(i);
            Map<String, Decoded> dec = new LinkedHashMap<>();
            for (String mode : modes) {
                double s = sigma.get(mode) * (mode.equals("onestep") ? 1 + i * 0.5 : 1);
                dec.put(mode, decoded(orig, noisy(orig, s, 31L * i + mode.hashCode()), 1 / s));
            }
            images.add(new Image(i == 1 ? HOSTILE_ID : "img-" + i, png(orig), dec));
        }
        List<Speed> speeds = new ArrayList<>();
        Map<String, double[]> spd = Map.of("full", new double[] {0.5, 50}, "multiscale", new double[] {2.1, 12},
                "onestep", new double[] {21, 1});
        for (String mode : modes) {
            speeds.add(new Speed(mode, spd.get(mode)[0], spd.get(mode)[1], n / spd.get(mode)[0]));
        }
        Run run = new Run("models/mipflow-<v1>", 42, n, "hdfs://nn/latents/dev & more", Instant.parse("2025-01-02T03:04:05Z"));
        return new AuditData(run, speeds, images);
    }

    static final List<String> ALL = List.of("full", "multiscale", "onestep");

    // ---------------------------------------------------------------- the HTML

    @Test
    void reportIsSelfContained() {
        String html = AuditReport.html(sample(4, ALL));
        assertNoExternalReferences(html);
        // original + 3 modes + 2 heat maps per image, all inline
        assertEquals(4 * 6, count(html, "src=\"data:image/png;base64,"));
        assertEquals(4, count(html, "<svg "), "one histogram per metric");
        for (String label : List.of("PSNR (dB)", "SSIM", "MS-SSIM", "HaarPSI", "images/s", "forward passes", "speedup")) {
            assertTrue(html.contains(label), label);
        }
    }

    static void assertNoExternalReferences(String html) {
        assertFalse(html.contains("http://"), "an http:// reference");
        assertFalse(html.contains("https://"), "an https:// reference");
        assertFalse(html.contains("<script"), "a script");
        assertFalse(html.contains("<link"), "a linked resource");
        assertFalse(html.contains("@import"), "a CSS import");
        assertFalse(html.contains("url("), "a CSS url()");
        Matcher m = Pattern.compile("(?i)\\b(src|href|xlink:href|srcset|action|poster)\\s*=\\s*\"?([^\"\\s>]*)").matcher(html);
        while (m.find()) {
            assertTrue(m.group(2).startsWith("data:"), "a non-data reference: " + m.group());
        }
    }

    @Test
    void textIsEscaped() {
        String html = AuditReport.html(sample(3, ALL));
        assertFalse(html.contains("alert(\"x\")"), "the hostile id got through unescaped");
        assertTrue(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"));
        assertTrue(html.contains("models/mipflow-&lt;v1&gt;"));
        assertTrue(html.contains("hdfs://nn/latents/dev &amp; more"));
    }

    @Test
    void worstCasesComeFirst() {
        String html = AuditReport.html(sample(5, ALL));
        assertTrue(html.contains("worst first"));
        int[] at = {html.indexOf(">img-4<"), html.indexOf(">img-3<"), html.indexOf(">img-2<"), html.indexOf(">img-0<")};
        for (int i = 0; i < at.length; i++) {
            assertTrue(at[i] > 0, "row " + i + " missing");
            assertTrue(i == 0 || at[i - 1] < at[i], "rows not sorted by onestep's PSNR drop");
        }
    }

    @Test
    void worstGapTakesTheLargestDropOfAnyMode() {
        Image img = new Image("a", new byte[0], Map.of(
                "full", new Decoded(new byte[0], Map.of("psnr", 30.0)),
                "multiscale", new Decoded(new byte[0], Map.of("psnr", 27.0)),
                "onestep", new Decoded(new byte[0], Map.of("psnr", 28.5))));
        assertEquals(-3.0, AuditReport.worstGap(img, List.of("multiscale", "onestep"), "psnr"), 1e-12);
        assertTrue(Double.isNaN(AuditReport.worstGap(img, List.of("multiscale"), "ssim")));
    }

    @Test
    void anySubsetOfModesAndMetricsRenders() {
        AuditData noFull = sample(3, List.of("multiscale", "onestep"));
        String html = AuditReport.html(noFull);
        assertTrue(html.contains("No full decode"));
        assertEquals(3 * 3, count(html, "src=\"data:image/png;base64,"), "no heat maps without full");

        AuditData fullOnly = sample(2, List.of("full"));
        assertNoExternalReferences(AuditReport.html(fullOnly));

        // A missing mode, a missing metric, a non-finite metric and an unreadable PNG.
        AuditData base = sample(3, ALL);
        List<Image> images = new ArrayList<>(base.images());
        Image first = images.get(0);
        Map<String, Decoded> dec = new HashMap<>(first.decoded());
        dec.remove("multiscale");
        dec.put("onestep", new Decoded("not a png".getBytes(StandardCharsets.UTF_8), Map.of("psnr", Double.POSITIVE_INFINITY)));
        images.set(0, new Image(first.id(), first.originalPng(), dec));
        String broken = AuditReport.html(new AuditData(base.run(), base.speeds(), images));
        assertTrue(broken.contains("not decoded"));
        assertTrue(broken.contains("unreadable PNG"));
        assertNoExternalReferences(broken);
    }

    @Test
    void dataSetFiguresShowWithTheirIntervalsOrTheirReason() {
        AuditData base = sample(3, ALL);
        List<AuditData.DatasetFigures> figs = List.of(
                new AuditData.DatasetFigures("multiscale", 3, new AuditStats.Interval(3, 0.1234, 0.05, 0.2),
                        new AuditStats.Interval(3, 0.00123, -0.001, 0.004), "abc<sha>", null),
                new AuditData.DatasetFigures("onestep", 3, null, null, "abc<sha>", "row x: non-finite <value>"));
        String html = AuditReport.html(new AuditData(base.run(), base.speeds(), base.images(), figs));
        assertTrue(html.contains("<h2>Data-set figures</h2>"), html);
        assertTrue(html.contains("0.1234<br><span class=\"ci\">[0.0500, 0.2000]</span>"), html);
        assertTrue(html.contains("row x: non-finite &lt;value&gt;"), "the reason, escaped");
        assertTrue(html.contains("abc&lt;sha&gt;"));
        assertFalse(AuditReport.html(base).contains("Data-set figures"), "no section without a feature network");
    }

    @Test
    void writeCreatesTheFile(@TempDir Path tmp) throws IOException {
        AuditData d = sample(2, ALL);
        Path file = tmp.resolve("sub/report.html");
        AuditReport.write(d, file);
        assertEquals(AuditReport.html(d), Files.readString(file, StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- in a browser

    /**
     * Renders the report in headless Chromium and looks at the screenshot: a page that failed
     * (blank, or images blocked or broken) would not show the magenta blocks of the test images
     * nor the histogram bars. The screenshot stays in target/audit-report-test/ to look at.
     */
    @Test
    void aModeBetterThanFullIsAGainAndAShortSampleSaysWhy() {
        AuditData d = sample(3, List.of("full", "multiscale"));
        List<Image> swapped = d.images().stream().map(i -> new Image(i.id(), i.originalPng(), Map.of(
                "full", i.decoded().get("multiscale"), "multiscale", i.decoded().get("full")))).toList();
        Run asked16 = new Run(d.run().modelDir(), d.run().seed(), 16, d.run().dataset(), d.run().date());
        String html = AuditReport.html(new AuditData(asked16, d.speeds(), swapped));
        assertTrue(html.contains("every mode at or above full in PSNR (dB); smallest gain: +"), html);
        assertFalse(html.contains("drop vs full: +"), html);
        assertTrue(html.contains("3 images (asked for 16; the data set has no more with a reference)"), html);
        assertTrue(AuditReport.html(d).contains("<dd>3 images</dd>"));
    }

    /**
     * Six columns of 128 px tiles (816 px) in a 700 px window, as six of 256 px in a 1400 px one:
     * the tiles shrink, nothing is cut off. The grid's extent is read back through a script
     * added to a copy (the report itself has none).
     */
    @Test
    void gridFitsTheWindow(@TempDir Path profile) throws Exception {
        assertTrue(Files.isExecutable(CHROMIUM), CHROMIUM + " is missing (run scripts/install-test-deps.sh)");
        Path dir = Files.createDirectories(Path.of("target", "audit-report-fit").toAbsolutePath());
        Path page = dir.resolve("report.html");
        // the copy's policy lets its one inline script run
        Files.writeString(page, AuditReport.html(sample(3, ALL)).replace("default-src 'none';",
                "default-src 'none'; script-src 'unsafe-inline';").replace("</body>", "<script>var g = document"
                + ".querySelector('table.grid'); var cut = [...g.querySelectorAll('td')].filter(td => td.scrollWidth > "
                + "td.clientWidth + 1).length; document.body.setAttribute('data-width', Math.ceil(g.getBoundingClientRect()"
                + ".right) + ' ' + cut)</script></body>"));
        Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--force-device-scale-factor=1", "--user-data-dir=" + profile, "--window-size=700,2000", "--dump-dom",
                page.toUri().toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String dom = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium took over 120 s");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("data-width=\"(\\d+) (\\d+)\"").matcher(dom);
        assertTrue(m.find(), "no width in the dumped page: " + dom.substring(0, Math.min(500, dom.length())));
        assertTrue(Integer.parseInt(m.group(1)) <= 700, "the grid ends at " + m.group(1) + " px in a 700 px window");
        assertEquals("0", m.group(2), "cells whose content is cut off");
    }

    @Test
    void rendersInChromium(@TempDir Path profile) throws Exception {
        assertTrue(Files.isExecutable(CHROMIUM),
                CHROMIUM + " is missing: the report's browser test needs Debian's chromium package "
                        + "(run scripts/install-test-deps.sh, or apt-get install chromium)");
        Path dir = Path.of("target", "audit-report-test").toAbsolutePath();
        Files.createDirectories(dir);
        Path report = dir.resolve("report.html");
        Path shot = dir.resolve("screenshot.png");
        Path log = dir.resolve("chromium.log");
        Files.deleteIfExists(shot);
        AuditReport.write(sample(6, ALL), report);

        Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
                "--user-data-dir=" + profile, "--screenshot=" + shot, "--window-size=1400,2000",
                report.toUri().toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail("chromium took over 120 s; its output is in " + log);
        }
        assertTrue(Files.isRegularFile(shot), "no screenshot (exit " + p.exitValue() + "); chromium's output:\n" + Files.readString(log));

        BufferedImage img = ImageIO.read(shot.toFile());
        assertNotNull(img, "the screenshot is not a readable PNG");
        assertEquals(1400, img.getWidth());
        Map<Integer, Integer> colours = new HashMap<>();
        int magenta = 0;
        int green = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int c = img.getRGB(x, y) & 0xFFFFFF;
                colours.merge(c, 1, Integer::sum);
                int r = c >> 16 & 255;
                int g = c >> 8 & 255;
                int b = c & 255;
                magenta += r > 240 && g < 16 && b > 240 ? 1 : 0;
                green += near(r, 0x2c) && near(g, 0xa0) && near(b, 0x2c) ? 1 : 0; // onestep's bars
            }
        }
        int pixels = img.getWidth() * img.getHeight();
        int top = colours.values().stream().max(Integer::compare).orElse(0);
        assertTrue(colours.size() > 1000, "the screenshot looks blank: " + colours.size() + " colours");
        assertTrue(top < 0.95 * pixels, "the screenshot is nearly one colour");
        // The first row alone shows the block in the original and three decodes.
        assertTrue(magenta >= 4 * BLOCK * BLOCK * 0.9, "the grid images did not load: " + magenta + " magenta pixels");
        assertTrue(green > 200, "the histograms did not render: " + green + " pixels of onestep's colour");
    }

    static boolean near(int a, int b) {
        return Math.abs(a - b) <= 6;
    }

    static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }
}
