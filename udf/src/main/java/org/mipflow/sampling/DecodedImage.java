package org.mipflow.sampling;

import java.util.Map;

/**
 * The outcome of one row: an image, or the reason it could not be decoded.
 *
 * @param metrics metric name to value (empty without a reference)
 * @param features the image's and its reference's features, or null (no feature network, no reference)
 */
public record DecodedImage(
        String id, byte[] png, int width, int height, int forwardPasses, double decodeMs, Map<String, Double> metrics,
        String error, Features features) {

    /**
     * Features of the decoded image and of its reference for rFID and KID, or the reason there
     * are none; a feature failure never fails the image.
     */
    public record Features(float[] decoded, float[] reference, String error) {}

    public DecodedImage {
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }

    public DecodedImage(String id, byte[] png, int width, int height, int forwardPasses, double decodeMs,
            Map<String, Double> metrics, String error) {
        this(id, png, width, height, forwardPasses, decodeMs, metrics, error, null);
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
