package org.mipflow.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.mipflow.io.ImageOps;

/**
 * Which quality metrics to compute per decoded image ({@code --metrics psnr,ssim,ms_ssim,haarpsi}),
 * all on the 8-bit images as written, against the reference, in {@link Metric}'s order.
 */
public record MetricSet(Set<Metric> metrics) implements Serializable {
    public static final String ALL = "psnr,ssim,ms_ssim,haarpsi";
    public static final MetricSet DEFAULT = new MetricSet(EnumSet.of(Metric.PSNR, Metric.SSIM));

    public MetricSet {
        EnumSet<Metric> copy = EnumSet.noneOf(Metric.class);
        copy.addAll(metrics);
        metrics = java.util.Collections.unmodifiableSet(copy);
    }

    public static MetricSet parse(String list) {
        EnumSet<Metric> on = EnumSet.noneOf(Metric.class);
        for (String s : list.split(",")) {
            if (!s.isBlank()) {
                on.add(Metric.parse(s));
            }
        }
        return new MetricSet(on);
    }

    public boolean has(Metric m) {
        return metrics.contains(m);
    }

    /** The column names, in order: what summary.json lists as "metrics". */
    public List<String> names() {
        List<String> n = new ArrayList<>();
        metrics.forEach(m -> n.add(m.column()));
        return n;
    }

    /**
     * @param decoded planar [3,h,w] in [-1,1] (quantised to 8 bits here, as the PNG will be)
     * @param reference planar [3,h,w] in [-1,1], from an 8-bit image
     * @return metric column to value, in {@link #names()} order; a metric that cannot be computed is absent
     */
    public Map<String, Double> score(float[] decoded, int offset, float[] reference, int h, int w) {
        int n = 3 * h * w;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = ImageOps.toByte(decoded[offset + i]);
            b[i] = ImageOps.toByte(reference[i]);
        }
        Map<String, Double> m = new LinkedHashMap<>();
        for (Metric metric : metrics) {
            Double v = metric.compute(a, b, h, w);
            if (v != null) {
                m.put(metric.column(), v);
            }
        }
        return m;
    }
}
