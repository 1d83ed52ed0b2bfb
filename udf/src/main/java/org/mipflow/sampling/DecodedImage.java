package org.mipflow.sampling;

/**
 * The outcome of one row: an image, or the reason it could not be decoded.
 *
 * @param psnr null without a reference
 */
public record DecodedImage(
        String id, byte[] png, int width, int height, int forwardPasses, double decodeMs, Double psnr, Double ssim,
        String error) {

    public static DecodedImage failed(String id, String error) {
        return new DecodedImage(id, null, 0, 0, 0, 0, null, null, error);
    }

    public boolean ok() {
        return error == null;
    }
}
