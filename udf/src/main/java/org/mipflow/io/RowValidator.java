package org.mipflow.io;

/** Checks a row against the input contract and the model; returns the reason it is bad, or null. */
public final class RowValidator {
    private RowValidator() {}

    /**
     * @param modelChannels latent channels the model takes
     * @param sideMultiple the latent side must be a multiple of this for the stage pyramid
     */
    public static String problem(String id, Object latent, Integer c, Integer h, Integer w, int latentLength,
            RowLimits limits, int modelChannels, int sideMultiple) {
        if (id == null) {
            return "id is null";
        }
        if (id.isEmpty()) {
            return "id is empty";
        }
        if (latent == null) {
            return "latent is null";
        }
        if (c == null || h == null || w == null) {
            return "latent_c, latent_h and latent_w must all be set";
        }
        if (c <= 0 || h <= 0 || w <= 0) {
            return "latent dimensions must be positive, got " + c + "x" + h + "x" + w;
        }
        if (h > limits.maxLatentSide() || w > limits.maxLatentSide()) {
            return "latent " + h + "x" + w + " exceeds the limit of " + limits.maxLatentSide() + " per side";
        }
        if ((long) c * h * w != latentLength) {
            return "latent has " + latentLength + " values but latent_c*latent_h*latent_w = " + ((long) c * h * w);
        }
        if (c != modelChannels) {
            return "latent has " + c + " channels; the model takes " + modelChannels;
        }
        if (h % sideMultiple != 0 || w % sideMultiple != 0) {
            return "latent grid " + h + "x" + w + " is not a multiple of " + sideMultiple
                    + ", which the model's stage pyramid needs";
        }
        return null;
    }

    /**
     * Reads a reference image, checking its file size and declared pixel count before decoding
     * it and its size against the decoded image's.
     *
     * @throws IllegalArgumentException with the reason when it cannot be used
     */
    public static float[] reference(byte[] data, int h, int w, RowLimits limits) {
        if (data.length > limits.maxReferenceBytes()) {
            throw new IllegalArgumentException("reference image has " + data.length + " bytes, above the limit of "
                    + limits.maxReferenceBytes());
        }
        java.awt.image.BufferedImage img;
        try {
            img = ImageCodec.read(data, limits.maxReferencePixels());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("reference image unreadable: " + e.getMessage(), e);
        }
        if (img.getWidth() != w || img.getHeight() != h) {
            throw new IllegalArgumentException("reference image is " + img.getWidth() + "x" + img.getHeight()
                    + " but the latent decodes to " + w + "x" + h);
        }
        return ImageOps.toPlanar(img);
    }

    /** The first non-finite value's position, or null. */
    public static String nonFinite(float[] latent) {
        for (int i = 0; i < latent.length; i++) {
            if (!Float.isFinite(latent[i])) {
                return "latent value " + i + " is " + latent[i];
            }
        }
        return null;
    }
}
