package org.mipflow.schedule;

import java.util.ArrayList;
import java.util.List;

/**
 * The pyramidal flow-matching schedule of docs/METHOD.md section 3: K stages, each at twice the
 * resolution of the one before, and the noise levels and jump coefficients that connect them.
 *
 * <p>Flow time t runs from 1 (pure noise) to 0 (clean image); inside a stage the sampler
 * integrates a local time u from 1 (stage start) to 0 (stage end). Pure math, no engine.
 *
 * @param stages number of stages K (stage 0 is the coarsest)
 * @param gamma block-noise correlation of the jump, 0 &lt; gamma &lt;= 1/3
 * @param nominalStarts o_k per stage: 1 - k/K, or what a decoder was trained with (the method's
 *     authors take them from a table of 1000 discrete times: 0.667 rather than 2/3)
 * @param ends e_k per stage: 1 - (k+1)/K and 0 for the last, or the trained ones
 */
public record StageSchedule(int stages, double gamma, List<Double> nominalStarts, List<Double> ends) {

    public static final StageSchedule DEFAULT = new StageSchedule(3, 1.0 / 3.0);

    /** K equal windows. */
    public StageSchedule(int stages, double gamma) {
        this(stages, gamma, equalStarts(stages), equalEnds(stages));
    }

    public StageSchedule {
        if (stages < 1 || stages > 6) {
            throw new IllegalArgumentException("stages must be in 1..6, got " + stages);
        }
        // Above 1/3 the renoising covariance of a 2x2 block is no longer positive semi-definite.
        if (!(gamma > 0 && gamma <= 1.0 / 3.0 + 1e-12)) {
            throw new IllegalArgumentException("gamma must be in (0, 1/3], got " + gamma);
        }
        nominalStarts = List.copyOf(nominalStarts);
        ends = List.copyOf(ends);
        if (nominalStarts.size() != stages || ends.size() != stages) {
            throw new IllegalArgumentException("nominal starts and ends need one value per stage (" + stages + ")");
        }
        if (nominalStarts.get(0) != 1.0 || ends.get(stages - 1) != 0.0) {
            throw new IllegalArgumentException("the first stage starts at 1 and the last ends at 0");
        }
        for (int k = 0; k < stages; k++) {
            double o = nominalStarts.get(k);
            double e = ends.get(k);
            if (!(e >= 0 && e < o && o <= 1) || (k > 0 && o > nominalStarts.get(k - 1))) {
                throw new IllegalArgumentException("stage " + k + " window [" + o + ", " + e + "] is not a descending "
                        + "part of [1, 0]");
            }
        }
    }

    private static List<Double> equalStarts(int stages) {
        List<Double> o = new ArrayList<>();
        for (int k = 0; k < Math.max(stages, 0); k++) {
            o.add(1.0 - (double) k / stages);
        }
        return o;
    }

    private static List<Double> equalEnds(int stages) {
        List<Double> e = new ArrayList<>();
        for (int k = 0; k < Math.max(stages, 0); k++) {
            e.add(k == stages - 1 ? 0.0 : 1.0 - (double) (k + 1) / stages);
        }
        return e;
    }

    /** Nominal window start o_k (1 - k/K for equal windows). */
    public double nominalStart(int k) {
        check(k);
        return nominalStarts.get(k);
    }

    /** Window end e_k (1 - (k+1)/K for equal windows); exactly 0 for the last stage. */
    public double end(int k) {
        check(k);
        return ends.get(k);
    }

    /** Rectified start s_k: the noise level a stage really starts from after the jump. */
    public double start(int k) {
        check(k);
        if (k == 0) {
            return 1.0;
        }
        double o = nominalStart(k);
        double r = 1.0 / (Math.sqrt(1.0 + 1.0 / gamma) * o + (1.0 - o));
        return 1.0 - r * (1.0 - o);
    }

    /** Global flow time at local time u in stage k: linear between the stage's end and start. */
    public double time(int k, double u) {
        return end(k) + u * (start(k) - end(k));
    }

    /** Scale a of the jump into stage k (k &gt;= 1): x &lt;- a * up(x) + b * n'. */
    public double jumpScale(int k) {
        double o = 1.0 - nominalStart(checkJump(k));
        return 1.0 / (Math.sqrt(1.0 + 1.0 / gamma) * (1.0 - o) + o);
    }

    /** Noise weight b of the jump into stage k (k &gt;= 1). */
    public double jumpNoise(int k) {
        double o = 1.0 - nominalStart(checkJump(k));
        return jumpScale(k) * (1.0 - o) / Math.sqrt(gamma);
    }

    /** Side of stage k for an image of side {@code full}: full / 2^(K-1-k). */
    public int resolution(int k, int full) {
        check(k);
        int factor = 1 << (stages - 1 - k);
        if (full % factor != 0) {
            throw new IllegalArgumentException(
                    "image side " + full + " is not divisible by " + factor + " for " + stages + " stages");
        }
        return full / factor;
    }

    private int checkJump(int k) {
        if (k < 1) {
            throw new IllegalArgumentException("there is no jump into stage 0");
        }
        return check(k);
    }

    private int check(int k) {
        if (k < 0 || k >= stages) {
            throw new IllegalArgumentException("stage " + k + " outside 0.." + (stages - 1));
        }
        return k;
    }
}
