package org.mipflow.metrics;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.mipflow.io.ImageOps;

/**
 * Which quality metrics to compute per decoded image ({@code --metrics psnr,ssim,ms_ssim,haarpsi}),
 * all on the 8-bit images as written, against the reference. MS-SSIM needs 161 px per side
 * for its 5 scales; smaller images get no MS-SSIM value (null) rather than a different definition.
 */
public record MetricSet(boolean psnr, boolean ssim, boolean msSsim, boolean haarpsi) implements Serializable {
    public static final String ALL = "psnr,ssim,ms_ssim,haarpsi";
    public static final MetricSet DEFAULT = new MetricSet(true, true, false, false);

    public static MetricSet parse(String list) {
        boolean[] on = new boolean[4];
        for (String s : list.split(",")) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "psnr" -> on[0] = true;
                case "ssim" -> on[1] = true;
                case "ms_ssim", "ms-ssim" -> on[2] = true;
                case "haarpsi" -> on[3] = true;
                case "" -> { }
                default -> throw new IllegalArgumentException("unknown metric '" + s.trim() + "'; known: " + ALL);
            }
        }
        return new MetricSet(on[0], on[1], on[2], on[3]);
    }

    public List<String> names() {
        List<String> n = new ArrayList<>();
        if (psnr) {
            n.add("psnr");
        }
        if (ssim) {
            n.add("ssim");
        }
        if (msSsim) {
            n.add("ms_ssim");
        }
        if (haarpsi) {
            n.add("haarpsi");
        }
        return n;
    }

    /**
     * @param decoded planar [3,h,w] in [-1,1] (quantised to 8 bits here, as the PNG will be)
     * @param reference planar [3,h,w] in [-1,1], from an 8-bit image
     * @return metric name to value, in {@link #names()} order; a metric that cannot be computed is absent
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
        if (psnr) {
            m.put("psnr", Psnr.compute(a, b, 255));
        }
        if (ssim) {
            m.put("ssim", Ssim.compute(a, b, 3, h, w, 255));
        }
        if (msSsim && Math.min(h, w) >= MsSsim.MIN_SIZE) {
            m.put("ms_ssim", MsSsim.compute(a, b, 3, h, w, 255));
        }
        if (haarpsi) {
            m.put("haarpsi", HaarPsi.compute(b, a, 3, h, w));
        }
        return m;
    }
}
