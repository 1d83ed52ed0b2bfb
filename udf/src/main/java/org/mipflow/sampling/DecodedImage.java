package org.mipflow.sampling;

import java.util.Map;

/**
 * The outcome of one row: an image, or the reason it could not be decoded.
 *
 * @param metrics metric name to value (empty without a reference)
 */
public record DecodedImage(
        String id, byte[] png, int width, int height, int forwardPasses, double decodeMs, Map<String, Double> metrics,
        String error) {

    public DecodedImage {
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }

    public static DecodedImage failed(String id, String error) {
        return new DecodedImage(id, null, 0, 0, 0, 0, null, error);
    }

    /** A metric's value, or null when it was not computed (no reference, not requested, image too small). */
    public Double metric(String name) {
        return metrics.get(name);
    }

    public boolean ok() {
        return error == null;
    }
}
