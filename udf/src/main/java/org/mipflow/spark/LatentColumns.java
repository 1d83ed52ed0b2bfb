package org.mipflow.spark;

import java.io.Serializable;
import org.mipflow.io.LatentEncoding;

/**
 * Which input columns hold a row's id, latent, shape and reference, and how a BINARY latent's
 * bytes are to be read (README, "Input contract").
 *
 * @param dtype the column naming each BINARY latent's encoding per row (used when present)
 * @param defaultEncoding the encoding of BINARY latents when the input has no {@code dtype}
 *     column; null means the column is required for BINARY latents
 */
public record LatentColumns(String id, String latent, String channels, String height, String width, String reference,
        String dtype, LatentEncoding defaultEncoding) implements Serializable {

    public static final LatentColumns DEFAULT = new LatentColumns(DecodeSchemas.ID, DecodeSchemas.LATENT,
            DecodeSchemas.C, DecodeSchemas.H, DecodeSchemas.W, DecodeSchemas.REFERENCE, DecodeSchemas.DTYPE, null);

    public LatentColumns withDefaultEncoding(LatentEncoding e) {
        return new LatentColumns(id, latent, channels, height, width, reference, dtype, e);
    }
}
