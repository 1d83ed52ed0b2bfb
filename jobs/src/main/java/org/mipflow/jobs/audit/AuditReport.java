package org.mipflow.jobs.audit;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.mipflow.jobs.audit.AuditData.Decoded;
import org.mipflow.jobs.audit.AuditData.Image;
import org.mipflow.jobs.audit.AuditData.Speed;
import org.mipflow.jobs.audit.AuditStats.Histogram;
import org.mipflow.jobs.audit.AuditStats.Interval;
import org.mipflow.metrics.Metric;
import org.mipflow.sampling.SamplingMode;

/**
 * The HTML report of {@code mipflow audit}: one self-contained file (inline CSS and SVG, images
 * as data: URIs, no script, no external reference at all) so that it can be mailed, archived or
 * opened offline and still show everything. A Content-Security-Policy forbids any other load, so
 * a reference that slipped in would show up as a broken page rather than a silent fetch.
 */
public final class AuditReport {
    private AuditReport() {}

    public static void write(AuditData d, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(file, html(d), StandardCharsets.UTF_8);
    }

    public static String html(AuditData d) {
        List<String> modes = d.modes();
        List<String> metrics = d.metrics();
        List<String> others = modes.stream().filter(m -> !m.equals(AuditData.BASELINE)).toList();
        List<String> heatModes = d.hasBaseline() ? others : List.of();
        StringBuilder h = new StringBuilder(1 << 16);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n")
                .append("<title>Mipflow decode audit</title>\n<style>").append(CSS).append("</style></head><body>\n");
        header(h, d, modes);
        modeTable(h, d, modes, metrics);
        figuresTable(h, d);
        histograms(h, d, modes, metrics);
        grid(h, d, modes, metrics, heatModes);
        return h.append("</body></html>\n").toString();
    }

    private static final String CSS = """
            body{font:14px/1.4 system-ui,sans-serif;margin:16px;color:#222;background:#fff}
            h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:24px 0 8px}
            dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:0}
            dl.facts dt{font-weight:600}dl.facts dd{margin:0;font-family:monospace}
            table.modes{border-collapse:collapse}table.modes th,table.modes td{border:1px solid #ccc;padding:3px 8px;text-align:right}
            table.modes th{background:#f2f2f2}table.modes td{white-space:nowrap}.ci{font-size:12px}td.worse{color:#b00000}td.better{color:#006400}
            .hists{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0}
            .hists figcaption{font-size:12px;color:#555}
            table.grid{border-collapse:collapse;table-layout:fixed;width:100%;max-width:calc(var(--cols) * 264px)}
            table.grid td{vertical-align:top;padding:4px;overflow:hidden}
            .tile img{max-width:100%;height:auto}
            table.grid th{text-align:left;padding:12px 4px 2px;border-top:1px solid #ccc;font-weight:normal}
            table.grid th .id{font-family:monospace;font-weight:600}
            .tile img{display:block}.tile figcaption{font:12px/1.3 monospace;white-space:pre-wrap;overflow-wrap:anywhere}
            img.heat{image-rendering:pixelated}.missing{color:#888;font-style:italic}
            .ramp{display:inline-block;width:160px;height:12px;vertical-align:middle;border:1px solid #999}
            .note{color:#555}
            """;

    // ---------------------------------------------------------------- header and table

    private static void header(StringBuilder h, AuditData d, List<String> modes) {
        AuditData.Run r = d.run();
        h.append("<h1>Mipflow decode audit</h1>\n<dl class=\"facts\">");
        fact(h, "model", r.modelDir());
        fact(h, "data set", r.dataset());
        fact(h, "seed", Long.toString(r.seed()));
        fact(h, "sample", d.images().size() + " images" + (d.images().size() < r.sampleSize() ? " (asked for "
                + r.sampleSize() + "; the data set has no more with a reference)" : ""));
        fact(h, "date", DateTimeFormatter.ISO_INSTANT.format(r.date()));
        fact(h, "modes", String.join(", ", modes));
        h.append("</dl>\n");
    }

    private static void fact(StringBuilder h, String name, String value) {
        h.append("<dt>").append(esc(name)).append("</dt><dd>").append(esc(value)).append("</dd>");
    }

    private static void modeTable(StringBuilder h, AuditData d, List<String> modes, List<String> metrics) {
        boolean base = d.hasBaseline();
        h.append("<h2>Per mode</h2>\n<p class=\"note\">Means over the sample. ");
        h.append(base
                ? "&Delta; is the mean paired per-image difference mode &minus; full with its 95% Student t "
                        + "confidence interval (higher is better for every metric; red: the interval is below 0, "
                        + "green: above 0)."
                : "No full decode in this run, so no gaps to it.");
        h.append("</p>\n<table class=\"modes\"><tr><th rowspan=\"2\">mode</th><th rowspan=\"2\">images</th>");
        for (String m : metrics) {
            h.append("<th colspan=\"").append(base ? 2 : 1).append("\">").append(esc(label(m))).append("</th>");
        }
        h.append("<th rowspan=\"2\">images/s</th><th rowspan=\"2\">forward passes / image</th>")
                .append("<th rowspan=\"2\">seconds</th><th rowspan=\"2\">speedup over full</th></tr>\n<tr>");
        for (int i = 0; i < metrics.size(); i++) {
            h.append("<th>mean</th>").append(base ? "<th>&Delta; vs full<br>[95% CI]</th>" : "");
        }
        h.append("</tr>\n");
        Speed full = d.speed(AuditData.BASELINE);
        for (String mode : modes) {
            long n = d.images().stream().filter(i -> i.decoded().containsKey(mode)).count();
            h.append("<tr><th>").append(esc(mode)).append("</th><td>").append(n).append("</td>");
            for (String m : metrics) {
                h.append("<td>").append(num(m, AuditStats.meanInterval(d.column(mode, m)).mean())).append("</td>");
                if (base) {
                    gapCell(h, mode, m, d);
                }
            }
            Speed s = d.speed(mode);
            if (s == null) {
                h.append("<td>&mdash;</td><td>&mdash;</td><td>&mdash;</td><td>&mdash;</td>");
            } else {
                h.append("<td>").append(fixed(s.imagesPerSecond(), 2)).append("</td><td>")
                        .append(passes(s.forwardPassesPerImage())).append("</td><td>")
                        .append(fixed(s.seconds(), 1)).append("</td><td>")
                        .append(full == null ? "&mdash;" : fixed(s.imagesPerSecond() / full.imagesPerSecond(), 1) + "&times;")
                        .append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    /** rFID and KID per mode, when the audit ran with a feature network. */
    private static void figuresTable(StringBuilder h, AuditData d) {
        if (d.figures().isEmpty()) {
            return;
        }
        h.append("<h2>Data-set figures</h2>\n<p class=\"note\">rFID and KID of each mode's decodes of the sample "
                + "against the references (lower is better), features from the network with SHA-256 <code>")
                .append(esc(d.figures().get(0).features() == null ? "?" : d.figures().get(0).features()))
                .append("</code>; [95% percentile bootstrap interval over the images]. On a small sample rFID is "
                        + "biased upwards: compare modes with each other, not with figures over 50,000 images.</p>\n")
                .append("<table class=\"modes\"><tr><th>mode</th><th>images</th><th>rFID [95% CI]</th>"
                        + "<th>KID [95% CI]</th></tr>\n");
        for (AuditData.DatasetFigures f : d.figures()) {
            h.append("<tr><th>").append(esc(f.mode())).append("</th><td>").append(f.images()).append("</td>");
            if (f.problem() != null) {
                h.append("<td colspan=\"2\" class=\"missing\">").append(esc(f.problem())).append("</td></tr>\n");
                continue;
            }
            figureCell(h, f.rfid(), 4);
            figureCell(h, f.kid(), 5);
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void figureCell(StringBuilder h, AuditStats.Interval i, int decimals) {
        h.append("<td>").append(Double.isNaN(i.mean()) ? "&mdash;" : fixed(i.mean(), decimals));
        if (!Double.isNaN(i.low())) {
            h.append("<br><span class=\"ci\">[").append(fixed(i.low(), decimals)).append(", ")
                    .append(fixed(i.high(), decimals)).append("]</span>");
        }
        h.append("</td>");
    }

    private static void gapCell(StringBuilder h, String mode, String metric, AuditData d) {
        if (mode.equals(AuditData.BASELINE)) {
            h.append("<td>baseline</td>");
            return;
        }
        Interval g = AuditStats.pairedGap(d.column(mode, metric), d.column(AuditData.BASELINE, metric));
        String cls = g.high() < 0 ? " class=\"worse\"" : g.low() > 0 ? " class=\"better\"" : "";
        h.append("<td").append(cls).append(">").append(signed(metric, g.mean()));
        if (g.n() >= 2) {
            // On a line of its own, so that the table of four metrics still fits a laptop's width.
            h.append("<br><span class=\"ci\">[").append(signed(metric, g.low())).append(", ")
                    .append(signed(metric, g.high())).append("]</span>");
        }
        h.append("</td>");
    }

    // ---------------------------------------------------------------- histograms

    private static final int HW = 440;
    private static final int HH = 250;
    private static final int LEFT = 50;
    private static final int RIGHT = 12;
    private static final int TOP = 28;
    private static final int BOTTOM = 44;

    private static void histograms(StringBuilder h, AuditData d, List<String> modes, List<String> metrics) {
        h.append("<h2>Distributions</h2>\n<div class=\"hists\">\n");
        for (String m : metrics) {
            double[][] series = modes.stream().map(mode -> d.column(mode, m)).toArray(double[][]::new);
            Histogram hist = AuditStats.histogram(series, AuditStats.binCount(d.images().size()));
            h.append("<figure>");
            svgHistogram(h, m, modes, hist);
            h.append("<figcaption>").append(esc(label(m))).append(" per image, by mode</figcaption></figure>\n");
        }
        h.append("</div>\n");
    }

    // Inline SVG needs no xmlns attribute in HTML (the parser puts it in the SVG namespace), and
    // leaving it out keeps the file free of any URL.
    private static void svgHistogram(StringBuilder h, String metric, List<String> modes, Histogram hist) {
        double pw = HW - LEFT - RIGHT;
        double ph = HH - TOP - BOTTOM;
        int bins = hist.bins();
        int max = Math.max(1, hist.maxCount());
        double bw = pw / bins;
        double sw = bw / Math.max(1, modes.size());
        h.append("<svg width=\"").append(HW).append("\" height=\"").append(HH).append("\" viewBox=\"0 0 ").append(HW)
                .append(' ').append(HH).append("\" role=\"img\" font-size=\"11\" font-family=\"sans-serif\">");
        for (int s = 0; s < modes.size(); s++) {
            // Bars of a bin side by side (not overlaid), so no mode hides another.
            h.append("<g fill=\"").append(colour(modes.get(s))).append("\" shape-rendering=\"crispEdges\">");
            for (int b = 0; b < bins; b++) {
                int c = hist.counts()[s][b];
                if (c > 0) {
                    double bh = c * ph / max;
                    rect(h, LEFT + b * bw + s * sw, TOP + ph - bh, Math.max(1, sw - 1), bh);
                }
            }
            h.append("</g>");
            double lx = LEFT + 8 + s * 110;
            h.append("<rect x=\"").append(fixed(lx, 1)).append("\" y=\"8\" width=\"10\" height=\"10\" fill=\"")
                    .append(colour(modes.get(s))).append("\"/><text x=\"").append(fixed(lx + 14, 1))
                    .append("\" y=\"17\">").append(esc(modes.get(s))).append("</text>");
        }
        h.append("<g stroke=\"#444\" shape-rendering=\"crispEdges\"><line x1=\"").append(LEFT).append("\" y1=\"")
                .append(fixed(TOP + ph, 1)).append("\" x2=\"").append(fixed(LEFT + pw, 1)).append("\" y2=\"")
                .append(fixed(TOP + ph, 1)).append("\"/><line x1=\"").append(LEFT).append("\" y1=\"").append(TOP)
                .append("\" x2=\"").append(LEFT).append("\" y2=\"").append(fixed(TOP + ph, 1)).append("\"/></g>");
        for (int k = 0; k <= 4; k++) {
            double x = LEFT + pw * k / 4;
            String anchor = k == 0 ? "start" : k == 4 ? "end" : "middle";
            h.append("<text x=\"").append(fixed(x, 1)).append("\" y=\"").append(fixed(TOP + ph + 14, 1))
                    .append("\" text-anchor=\"").append(anchor).append("\">")
                    .append(num(metric, hist.lo() + (hist.hi() - hist.lo()) * k / 4)).append("</text>");
        }
        for (int c : max > 1 ? new int[] {0, max / 2, max} : new int[] {0, max}) {
            h.append("<text x=\"").append(LEFT - 4).append("\" y=\"").append(fixed(TOP + ph - c * ph / max + 4, 1))
                    .append("\" text-anchor=\"end\">").append(c).append("</text>");
        }
        h.append("<text x=\"").append(fixed(LEFT + pw / 2, 1)).append("\" y=\"").append(HH - 6)
                .append("\" text-anchor=\"middle\">").append(esc(label(metric))).append("</text>");
        h.append("<text transform=\"translate(12 ").append(fixed(TOP + ph / 2, 1))
                .append(") rotate(-90)\" text-anchor=\"middle\">images</text></svg>");
    }

    private static void rect(StringBuilder h, double x, double y, double w, double hh) {
        h.append("<rect x=\"").append(fixed(x, 1)).append("\" y=\"").append(fixed(y, 1)).append("\" width=\"")
                .append(fixed(w, 1)).append("\" height=\"").append(fixed(hh, 1)).append("\"/>");
    }

    private static final Map<String, String> MODE_COLOURS = Map.of(SamplingMode.FULL.label(), "#1f77b4",
            SamplingMode.MULTISCALE.label(), "#ff7f0e", SamplingMode.ONESTEP.label(), "#2ca02c");
    private static final String[] EXTRA_COLOURS = {"#d62728", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"};

    private static String colour(String mode) {
        String c = MODE_COLOURS.get(mode);
        return c != null ? c : EXTRA_COLOURS[Math.floorMod(mode.hashCode(), EXTRA_COLOURS.length)];
    }

    // ---------------------------------------------------------------- grid

    private static void grid(StringBuilder h, AuditData d, List<String> modes, List<String> metrics, List<String> heatModes) {
        List<Image> rows = new ArrayList<>(d.images());
        String psnr = Metric.PSNR.column();
        String key = metrics.contains(psnr) ? psnr : metrics.isEmpty() ? null : metrics.get(0);
        boolean sorted = !heatModes.isEmpty() && key != null;
        if (sorted) {
            // NaN (no gap to compute) sorts last; the sort is stable, so ties keep the sample order.
            rows.sort(Comparator.comparingDouble(i -> {
                double g = worstGap(i, heatModes, key);
                return Double.isNaN(g) ? Double.POSITIVE_INFINITY : g;
            }));
        }
        // Error maps first: the colour scale is shared, so it needs all of them before any is drawn.
        List<Map<String, int[]>> errors = new ArrayList<>();
        int[] pooled = new int[766];
        for (Image img : rows) {
            Map<String, int[]> e = new HashMap<>();
            BufferedImage full = read(img.decoded().get(AuditData.BASELINE));
            for (String mode : heatModes) {
                int[] err = errorSums(read(img.decoded().get(mode)), full);
                if (err != null) {
                    e.put(mode, err);
                    for (int v : err) {
                        pooled[v]++;
                    }
                }
            }
            errors.add(e);
        }
        double scale = heatScale(pooled);

        h.append("<h2>Images</h2>\n<p class=\"note\">");
        h.append(sorted
                ? "Rows are sorted by the largest " + esc(label(key)) + " drop of any mode against full, worst first."
                : "Rows are in the sample's order.");
        if (!heatModes.isEmpty()) {
            h.append(" Heat maps: |mode &minus; full| averaged over R, G and B, on one scale for all tiles: ")
                    .append("0 <span class=\"ramp\" style=\"background:linear-gradient(to right")
                    .append(rampStops()).append(")\"></span> ").append(fixed(scale, 1))
                    .append(" or more (of 255; the 99th percentile of all heat map pixels).");
        }
        int columns = 1 + modes.size() + heatModes.size();
        // every column shrinks its tiles to fit the window (a 1400 px one holds six 256 px columns at 220 px)
        h.append("</p>\n<table class=\"grid\" style=\"--cols:").append(columns).append("\">\n<tr><td>original</td>");
        for (String m : modes) {
            h.append("<td>").append(esc(m)).append("</td>");
        }
        for (String m : heatModes) {
            h.append("<td>|").append(esc(m)).append(" &minus; full|</td>");
        }
        h.append("</tr>\n");
        for (int r = 0; r < rows.size(); r++) {
            Image img = rows.get(r);
            h.append("<tbody><tr><th colspan=\"").append(columns).append("\"><span class=\"id\">")
                    .append(esc(img.id())).append("</span>");
            if (sorted) {
                String worst = worstMode(img, heatModes, key);
                double gap = worstGap(img, heatModes, key);
                if (gap < 0) {
                    h.append(" &middot; largest ").append(esc(label(key))).append(" drop vs full: ")
                            .append(signed(key, gap)).append(" (").append(esc(worst)).append(")");
                } else if (gap >= 0) {
                    // no mode is below full here: a gain, said as one
                    h.append(" &middot; every mode at or above full in ").append(esc(label(key)))
                            .append("; smallest gain: ").append(signed(key, gap)).append(" (").append(esc(worst))
                            .append(")");
                }
            }
            h.append("</th></tr>\n<tr>");
            BufferedImage original = readPng(img.originalPng());
            tile(h, "original", img.originalPng(), original,
                    original == null ? "" : original.getWidth() + "\u00d7" + original.getHeight(), false);
            for (String mode : modes) {
                Decoded dec = img.decoded().get(mode);
                if (dec == null) {
                    h.append("<td class=\"missing\">not decoded</td>");
                } else {
                    tile(h, mode, dec.png(), read(dec), caption(img, mode, metrics), false);
                }
            }
            for (String mode : heatModes) {
                int[] err = errors.get(r).get(mode);
                if (err == null) {
                    h.append("<td class=\"missing\">no heat map (missing, unreadable or differently sized decode)</td>");
                } else {
                    // errorSums only succeeds when full decoded, so the heat map takes its size.
                    BufferedImage full = read(img.decoded().get(AuditData.BASELINE));
                    BufferedImage heat = heatMap(err, full.getWidth(), full.getHeight(), scale);
                    tile(h, "|" + mode + " - full|", png(heat), heat, heatCaption(err), true);
                }
            }
            h.append("</tr></tbody>\n");
        }
        h.append("</table>\n");
    }

    /** The most negative gap mode - full of any of the modes, or NaN when there is none. */
    static double worstGap(Image img, List<String> modes, String metric) {
        String m = worstMode(img, modes, metric);
        return m == null ? Double.NaN : img.metric(m, metric) - img.metric(AuditData.BASELINE, metric);
    }

    private static String worstMode(Image img, List<String> modes, String metric) {
        String worst = null;
        double gap = Double.POSITIVE_INFINITY;
        for (String m : modes) {
            double g = img.metric(m, metric) - img.metric(AuditData.BASELINE, metric);
            if (Double.isFinite(g) && g < gap) {
                worst = m;
                gap = g;
            }
        }
        return worst;
    }

    private static void tile(StringBuilder h, String alt, byte[] png, BufferedImage decoded, String caption, boolean heat) {
        if (decoded == null) {
            h.append("<td class=\"missing\">unreadable PNG</td>");
            return;
        }
        h.append("<td><figure class=\"tile\"><img").append(heat ? " class=\"heat\"" : "").append(" alt=\"")
                .append(esc(alt)).append("\" width=\"").append(decoded.getWidth()).append("\" height=\"")
                .append(decoded.getHeight()).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\"><figcaption>").append(esc(caption))
                .append("</figcaption></figure></td>");
    }

    private static String caption(Image img, String mode, List<String> metrics) {
        StringBuilder c = new StringBuilder();
        for (String m : metrics) {
            double v = img.metric(mode, m);
            if (Double.isNaN(v)) {
                continue;
            }
            c.append(String.format(Locale.ROOT, "%-8s %s", label(m).replace(" (dB)", ""), plain(m, v)));
            double g = v - img.metric(AuditData.BASELINE, m);
            if (!mode.equals(AuditData.BASELINE) && Double.isFinite(g)) {
                c.append(" (").append(plainSigned(m, g)).append(')');
            }
            c.append('\n');
        }
        return c.toString().stripTrailing();
    }

    private static String heatCaption(int[] err) {
        long sum = 0;
        int max = 0;
        for (int v : err) {
            sum += v;
            max = Math.max(max, v);
        }
        return String.format(Locale.ROOT, "mean |d| %.2f\nmax  |d| %.1f", sum / 3.0 / err.length, max / 3.0);
    }

    // ---------------------------------------------------------------- heat maps

    /** Per pixel |dR| + |dG| + |dB| in 0..765, or null when an image is missing or the sizes differ. */
    private static int[] errorSums(BufferedImage a, BufferedImage b) {
        if (a == null || b == null || a.getWidth() != b.getWidth() || a.getHeight() != b.getHeight()) {
            return null;
        }
        int w = a.getWidth();
        int[] pa = a.getRGB(0, 0, w, a.getHeight(), null, 0, w);
        int[] pb = b.getRGB(0, 0, w, b.getHeight(), null, 0, w);
        int[] out = new int[pa.length];
        for (int i = 0; i < pa.length; i++) {
            int x = pa[i];
            int y = pb[i];
            out[i] = Math.abs((x >> 16 & 255) - (y >> 16 & 255)) + Math.abs((x >> 8 & 255) - (y >> 8 & 255))
                    + Math.abs((x & 255) - (y & 255));
        }
        return out;
    }

    /**
     * The error (in levels of 255) that maps to the top of the colour ramp: the 99th percentile
     * of all heat map pixels, so that one scale serves every tile (they stay comparable) while a
     * few outlier pixels do not wash the rest out to black. At least 1, for identical decodes.
     */
    private static double heatScale(int[] pooled) {
        long total = 0;
        for (int c : pooled) {
            total += c;
        }
        long seen = 0;
        for (int v = 0; v < pooled.length; v++) {
            seen += pooled[v];
            if (seen >= 0.99 * total && total > 0) {
                return Math.max(1, v / 3.0);
            }
        }
        return 1;
    }

    // An approximation of matplotlib's "inferno": perceptually ordered from black to pale yellow,
    // and readable in greyscale. It never reaches the saturated magenta the report's test looks for.
    private static final int[][] RAMP = {{0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}};

    private static BufferedImage heatMap(int[] err, int w, int hgt, double scale) {
        BufferedImage img = new BufferedImage(w, hgt, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[err.length];
        for (int i = 0; i < err.length; i++) {
            double t = Math.min(1, err[i] / 3.0 / scale) * (RAMP.length - 1);
            int k = Math.min((int) t, RAMP.length - 2);
            double f = t - k;
            int r = (int) Math.round(RAMP[k][0] + f * (RAMP[k + 1][0] - RAMP[k][0]));
            int g = (int) Math.round(RAMP[k][1] + f * (RAMP[k + 1][1] - RAMP[k][1]));
            int b = (int) Math.round(RAMP[k][2] + f * (RAMP[k + 1][2] - RAMP[k][2]));
            rgb[i] = r << 16 | g << 8 | b;
        }
        img.setRGB(0, 0, w, hgt, rgb, 0, w);
        return img;
    }

    private static String rampStops() {
        StringBuilder s = new StringBuilder();
        for (int[] c : RAMP) {
            s.append(String.format(Locale.ROOT, ",rgb(%d,%d,%d)", c[0], c[1], c[2]));
        }
        return s.toString();
    }

    private static BufferedImage read(Decoded d) {
        return d == null ? null : readPng(d.png());
    }

    private static BufferedImage readPng(byte[] png) {
        try {
            return ImageIO.read(new ByteArrayInputStream(png));
        } catch (IOException e) {
            return null; // shown as "unreadable PNG": one bad decode should not lose the report
        }
    }

    private static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen writing to memory
        }
    }

    // ---------------------------------------------------------------- text

    /** HTML-escapes text for element content and double- or single-quoted attributes. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A known metric's heading; another name as it is. */
    private static String label(String metric) {
        Metric m = known(metric);
        return m == null ? metric : m.label();
    }

    // PSNR is in dB and varies in whole units; the others live in [0, 1] and need more digits.
    private static int decimals(String metric) {
        Metric m = known(metric);
        return m == null ? 4 : m.decimals();
    }

    private static Metric known(String metric) {
        try {
            return Metric.parse(metric);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String plain(String metric, double v) {
        return Double.isNaN(v) ? "-" : Double.isInfinite(v) ? (v > 0 ? "inf" : "-inf") : fixed(v, decimals(metric));
    }

    private static String plainSigned(String metric, double v) {
        return (v >= 0 ? "+" : "") + plain(metric, v);
    }

    /** As HTML: a missing value is a dash. */
    private static String num(String metric, double v) {
        return Double.isNaN(v) ? "&mdash;" : plain(metric, v);
    }

    private static String signed(String metric, double v) {
        return Double.isNaN(v) ? "&mdash;" : plainSigned(metric, v);
    }

    private static String passes(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : fixed(v, 2);
    }

    private static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
