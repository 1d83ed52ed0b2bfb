package org.mipflow.sampling;

/**
 * A feature network for data-set metrics (rFID, KID): one image in, one feature vector out. The
 * decode loop calls it on each decoded image and on its reference, one image per call, so a
 * row's features do not depend on its neighbours.
 */
@FunctionalInterface
public interface ImageFeatures {
    /**
     * @param rgb planar [3,h,w] 8-bit values (0..255) as floats: the image as written, or the reference
     * @throws RuntimeException with the reason when the network fails or answers out of contract
     */
    float[] of(float[] rgb, int h, int w);
}
