package org.mipflow.metrics;

import java.util.Locale;

/**
 * The per-image quality metrics, one table: the name options and columns use, the label reports
 * show, the decimals they print, the key of its mean in summary.json, and how it is computed on
 * 8-bit images (higher is better for all four).
 */
public enum Metric {
    PSNR("psnr", "PSNR", "dB", 2),
    SSIM("ssim", "SSIM", "", 4),
    /** Needs {@link MsSsim#MIN_SIZE} px per side for its 5 scales; smaller images get no value. */
    MS_SSIM("ms_ssim", "MS-SSIM", "", 4),
    HAARPSI("haarpsi", "HaarPSI", "", 4);

    private final String column;
    private final String name;
    private final String unit;
    private final int decimals;

    Metric(String column, String name, String unit, int decimals) {
        this.column = column;
        this.name = name;
        this.unit = unit;
        this.decimals = decimals;
    }

    /** "PSNR", "MS-SSIM". */
    public String shortName() {
        return name;
    }

    /** "24.560 dB", "0.736": a value as the command line prints it (null: "n/a"). */
    public String format(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.3f", v) + (unit.isEmpty() ? "" : " " + unit);
    }

    /** "ms_ssim": the option word, the output column and the key in per-image maps. */
    public String column() {
        return column;
    }

    /** "PSNR (dB)": a report's column heading. */
    public String label() {
        return unit.isEmpty() ? name : name + " (" + unit + ")";
    }

    public int decimals() {
        return decimals;
    }

    /** Its mean's key in summary.json: "ms_ssim_mean". */
    public String summaryKey() {
        return column + "_mean";
    }

    /** By column name; "ms-ssim" is accepted too. */
    public static Metric parse(String s) {
        String k = s.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (Metric m : values()) {
            if (m.column.equals(k)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown metric '" + s.trim() + "'; known: " + MetricSet.ALL);
    }

    /**
     * The metric of a decoded image against its reference, both planar [3,h,w] 8-bit values as
     * floats; null where it is not defined for the size.
     */
    Double compute(float[] decoded, float[] reference, int h, int w) {
        return switch (this) {
            case PSNR -> Psnr.compute(decoded, reference, 255);
            case SSIM -> Ssim.compute(decoded, reference, 3, h, w, 255);
            case MS_SSIM -> Math.min(h, w) >= MsSsim.MIN_SIZE ? MsSsim.compute(decoded, reference, 3, h, w, 255) : null;
            case HAARPSI -> HaarPsi.compute(reference, decoded, 3, h, w);
        };
    }
}
