package org.mipflow.jobs.bench;

import java.util.List;
import org.mipflow.sampling.DecodedImage;

/** What the benches check and report of their measured runs. */
final class Measurements {
    private Measurements() {}

    /** The images, when every row decoded: a bench that lost a row would compare different work. */
    static List<DecodedImage> allDecoded(List<DecodedImage> images, String what) {
        for (DecodedImage d : images) {
            if (!d.ok()) {
                throw new IllegalStateException(what + " could not decode " + d.id() + ": " + d.error());
            }
        }
        return images;
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
