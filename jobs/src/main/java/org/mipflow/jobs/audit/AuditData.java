package org.mipflow.jobs.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.mipflow.metrics.Metric;
import org.mipflow.sampling.SamplingMode;

/**
 * Everything {@code mipflow audit} measured, as plain values, so that the report can be rendered
 * (and tested) without a model. Immutable: collections are copied into unmodifiable ones and
 * PNG bytes are copied on the way in and out.
 *
 * <p>Metrics are "higher is better" (PSNR, SSIM, MS-SSIM, HaarPSI); any subset may be present,
 * and a value may be non-finite (e.g. PSNR of an exact match), which the statistics leave out.
 *
 * @param run the facts of the run, shown in the report's header
 * @param speeds per mode; a mode with no entry shows no speed
 * @param images the sample, in any order (the report sorts it)
 * @param figures per mode, with a feature network; empty without
 */
public record AuditData(Run run, List<Speed> speeds, List<Image> images, List<DatasetFigures> figures) {
    /** Decode modes in display order; "full" is the baseline that the others are compared with. */
    public static final List<String> MODE_ORDER =
            java.util.Arrays.stream(SamplingMode.values()).map(SamplingMode::label).toList();

    public static final String BASELINE = SamplingMode.FULL.label();

    /** Metric names in display order; others follow in the order first seen. */
    public static final List<String> METRIC_ORDER =
            java.util.Arrays.stream(Metric.values()).map(Metric::column).toList();

    public AuditData {
        Objects.requireNonNull(run, "run");
        speeds = List.copyOf(speeds);
        images = List.copyOf(images);
        figures = List.copyOf(figures);
    }

    /** Without data-set figures (no feature network). */
    public AuditData(Run run, List<Speed> speeds, List<Image> images) {
        this(run, speeds, images, List.of());
    }

    /**
     * rFID and KID of one mode's decodes of the sample against their references, with bootstrap
     * intervals; both null, with the reason, when the feature network could not give them.
     *
     * @param features the feature network's SHA-256
     */
    public record DatasetFigures(String mode, int images, AuditStats.Interval rfid, AuditStats.Interval kid,
            String features, String problem) {
        public DatasetFigures {
            Objects.requireNonNull(mode, "mode");
        }
    }

    /**
     * @param modelDir the model that decoded
     * @param seed the seed of the sample and of the decoders' noise
     * @param sampleSize images asked for (the data set may have had fewer)
     * @param dataset the latents data set
     * @param date when the run started
     */
    public record Run(String modelDir, long seed, int sampleSize, String dataset, Instant date) {
        public Run {
            Objects.requireNonNull(modelDir, "modelDir");
            Objects.requireNonNull(dataset, "dataset");
            Objects.requireNonNull(date, "date");
        }
    }

    /**
     * @param imagesPerSecond decode throughput of the mode
     * @param forwardPassesPerImage network evaluations per image (e.g. 50 for full, 1 for onestep)
     * @param seconds wall time the mode took over the whole sample
     */
    public record Speed(String mode, double imagesPerSecond, double forwardPassesPerImage, double seconds) {
        public Speed {
            Objects.requireNonNull(mode, "mode");
        }
    }

    /** One mode's decode of one image: the PNG and its metrics against the original. */
    public record Decoded(byte[] png, Map<String, Double> metrics) {
        public Decoded {
            png = png.clone();
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        }

        @Override
        public byte[] png() {
            return png.clone();
        }
    }

    /**
     * @param id the image's key in the data set (untrusted text: the report escapes it)
     * @param originalPng the reference image
     * @param decoded mode name to its decode; any subset of the modes
     */
    public record Image(String id, byte[] originalPng, Map<String, Decoded> decoded) {
        public Image {
            Objects.requireNonNull(id, "id");
            originalPng = originalPng.clone();
            decoded = Collections.unmodifiableMap(new LinkedHashMap<>(decoded));
        }

        @Override
        public byte[] originalPng() {
            return originalPng.clone();
        }

        /** The metric of a mode, or NaN when the mode or the metric is missing. */
        public double metric(String mode, String metric) {
            Decoded d = decoded.get(mode);
            Double v = d == null ? null : d.metrics().get(metric);
            return v == null ? Double.NaN : v;
        }
    }

    /** Modes that occur in any image or speed: {@link #MODE_ORDER} first, then the rest as seen. */
    public List<String> modes() {
        Set<String> seen = new LinkedHashSet<>();
        images.forEach(i -> seen.addAll(i.decoded().keySet()));
        speeds.forEach(s -> seen.add(s.mode()));
        return ordered(MODE_ORDER, seen);
    }

    /** Metrics that occur in any decode: {@link #METRIC_ORDER} first, then the rest as seen. */
    public List<String> metrics() {
        Set<String> seen = new LinkedHashSet<>();
        images.forEach(i -> i.decoded().values().forEach(d -> seen.addAll(d.metrics().keySet())));
        return ordered(METRIC_ORDER, seen);
    }

    /** Whether the baseline was decoded, i.e. whether gaps to it can be shown. */
    public boolean hasBaseline() {
        return modes().contains(BASELINE);
    }

    public Speed speed(String mode) {
        return speeds.stream().filter(s -> s.mode().equals(mode)).findFirst().orElse(null);
    }

    /** The metric over the sample, in the images' order (NaN where missing). */
    public double[] column(String mode, String metric) {
        return images.stream().mapToDouble(i -> i.metric(mode, metric)).toArray();
    }

    private static List<String> ordered(List<String> preferred, Set<String> seen) {
        List<String> out = new ArrayList<>();
        for (String p : preferred) {
            if (seen.remove(p)) {
                out.add(p);
            }
        }
        out.addAll(seen);
        return out;
    }
}
