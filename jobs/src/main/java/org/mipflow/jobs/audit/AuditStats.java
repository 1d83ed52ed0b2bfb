package org.mipflow.jobs.audit;

/**
 * The statistics of the audit report, on plain arrays. Non-finite values (a missing metric, or
 * PSNR = +inf of an exact match) are left out rather than poisoning a mean.
 */
public final class AuditStats {
    private AuditStats() {}

    /**
     * A mean and its two-sided 95% confidence interval over {@code n} values; the bounds are NaN
     * when {@code n < 2} (no spread to estimate), and the mean too when {@code n == 0}.
     */
    public record Interval(int n, double mean, double low, double high) {
        public double halfWidth() {
            return (high - low) / 2;
        }
    }

    /**
     * Bins shared by several series, so that their bars line up: {@code counts[series][bin]} over
     * {@code [lo, hi]} cut into equal bins (the last one closed).
     */
    public record Histogram(double lo, double hi, int[][] counts) {
        public int bins() {
            return counts.length == 0 ? 0 : counts[0].length;
        }

        public double binWidth() {
            return (hi - lo) / bins();
        }

        public int maxCount() {
            int m = 0;
            for (int[] c : counts) {
                for (int v : c) {
                    m = Math.max(m, v);
                }
            }
            return m;
        }
    }

    /** Mean and Student t 95% interval of the finite values. */
    public static Interval meanInterval(double[] xs) {
        int n = 0;
        double sum = 0;
        for (double x : xs) {
            if (Double.isFinite(x)) {
                n++;
                sum += x;
            }
        }
        if (n == 0) {
            return new Interval(0, Double.NaN, Double.NaN, Double.NaN);
        }
        double mean = sum / n;
        if (n < 2) {
            return new Interval(n, mean, Double.NaN, Double.NaN);
        }
        double ss = 0;
        for (double x : xs) {
            if (Double.isFinite(x)) {
                ss += (x - mean) * (x - mean);
            }
        }
        double half = t975(n - 1) * Math.sqrt(ss / (n - 1) / n);
        return new Interval(n, mean, mean - half, mean + half);
    }

    /**
     * The gap {@code mode - base} of paired per-image values, and its 95% interval. Pairing (the
     * same images, the same noise seed) removes the image-to-image spread, which is far larger
     * than the gap between modes; images where either value is not finite are left out.
     */
    public static Interval pairedGap(double[] mode, double[] base) {
        if (mode.length != base.length) {
            throw new IllegalArgumentException("paired arrays differ in length: " + mode.length + " vs " + base.length);
        }
        double[] d = new double[mode.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = Double.isFinite(mode[i]) && Double.isFinite(base[i]) ? mode[i] - base[i] : Double.NaN;
        }
        return meanInterval(d);
    }

    /**
     * A statistic of the whole sample with a 95% percentile bootstrap interval: {@code rounds}
     * resamples of the n rows with replacement (seeded), the 2.5th and 97.5th percentiles of the
     * statistic over them (non-finite values left out). For figures of a distribution (rFID, KID)
     * that have no per-image values to average.
     */
    public static Interval bootstrap(int n, int rounds, long seed, java.util.function.ToDoubleFunction<int[]> stat) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        double point = stat.applyAsDouble(all);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        double[] v = new double[rounds];
        int k = 0;
        for (int b = 0; b < rounds; b++) {
            int[] idx = new int[n];
            for (int i = 0; i < n; i++) {
                idx[i] = rnd.nextInt(n);
            }
            double x = stat.applyAsDouble(idx);
            if (Double.isFinite(x)) {
                v[k++] = x;
            }
        }
        if (k < 2) {
            return new Interval(n, point, Double.NaN, Double.NaN);
        }
        double[] s = java.util.Arrays.copyOf(v, k);
        java.util.Arrays.sort(s);
        return new Interval(n, point, percentile(s, 0.025), percentile(s, 0.975));
    }

    /** Linear interpolation between order statistics (numpy's default). */
    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    // t(0.975, df) for df = 1..30, from scipy.stats.t.ppf; the small-df values are far from 1.96.
    private static final double[] T975 = {
        12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004, 2.262157, 2.228139,
        2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905, 2.109816, 2.100922, 2.093024, 2.085963,
        2.079614, 2.073873, 2.068658, 2.063899, 2.059539, 2.055529, 2.051831, 2.048407, 2.045230, 2.042272,
    };

    private static final double Z975 = 1.959963984540054;

    /**
     * The 0.975 quantile of Student's t with {@code df} degrees of freedom: a table up to 30, and
     * above it the Cornish-Fisher expansion in 1/df (Abramowitz and Stegun 26.7.5, four terms),
     * which is within 3e-8 of the exact value there and tends to the normal 1.96 as df grows.
     */
    public static double t975(int df) {
        if (df < 1) {
            throw new IllegalArgumentException("degrees of freedom must be >= 1: " + df);
        }
        if (df <= T975.length) {
            return T975[df - 1];
        }
        double z = Z975;
        double z2 = z * z;
        double g1 = (z2 + 1) * z / 4;
        double g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
        double g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
        double g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160;
        double n = df;
        return z + g1 / n + g2 / (n * n) + g3 / (n * n * n) + g4 / (n * n * n * n);
    }

    /** A bin count for n values (Sturges' rule, kept between 5 and 30 to stay readable). */
    public static int binCount(int n) {
        int sturges = (int) Math.ceil(Math.log(Math.max(n, 1)) / Math.log(2)) + 1;
        return Math.max(5, Math.min(30, sturges));
    }

    /**
     * Counts each series' finite values in {@code bins} equal bins over the range of all of them.
     * When every value is the same, the range is widened by 0.5 on each side so the bar is visible.
     */
    public static Histogram histogram(double[][] series, int bins) {
        if (bins < 1) {
            throw new IllegalArgumentException("bins must be >= 1: " + bins);
        }
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] s : series) {
            for (double x : s) {
                if (Double.isFinite(x)) {
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
            }
        }
        if (lo > hi) {
            lo = 0;
            hi = 1;
        } else if (lo == hi) {
            lo -= 0.5;
            hi += 0.5;
        }
        int[][] counts = new int[series.length][bins];
        for (int s = 0; s < series.length; s++) {
            for (double x : series[s]) {
                if (Double.isFinite(x)) {
                    int b = (int) ((x - lo) / (hi - lo) * bins);
                    counts[s][Math.min(Math.max(b, 0), bins - 1)]++;
                }
            }
        }
        return new Histogram(lo, hi, counts);
    }
}
