package org.mipflow.spark;

import java.io.Serializable;
import org.mipflow.io.LatentEncoding;

/**
 * Which input columns hold a row's id, latent, shape and reference, and how a BINARY latent's
 * bytes are to be read (docs/decode.md, "Input contract").
 *
 * @param dtype the column naming each BINARY latent's encoding per row (used when present)
 * @param defaultEncoding the encoding of BINARY latents when the input has no {@code dtype}
 *     column; null means the column is required for BINARY latents
 * @param tokens the model takes token latents: the shape is the model's, so the shape columns are
 *     not needed, and the latent may also be an array of arrays (T rows of D)
 */
public record LatentColumns(String id, String latent, String channels, String height, String width, String reference,
        String dtype, LatentEncoding defaultEncoding, boolean tokens) implements Serializable {

    public static final LatentColumns DEFAULT = new LatentColumns(DecodeSchemas.ID, DecodeSchemas.LATENT,
            DecodeSchemas.C, DecodeSchemas.H, DecodeSchemas.W, DecodeSchemas.REFERENCE, DecodeSchemas.DTYPE, null,
            false);

    public LatentColumns(String id, String latent, String channels, String height, String width, String reference,
            String dtype, LatentEncoding defaultEncoding) {
        this(id, latent, channels, height, width, reference, dtype, defaultEncoding, false);
    }

    public LatentColumns withDefaultEncoding(LatentEncoding e) {
        return new LatentColumns(id, latent, channels, height, width, reference, dtype, e, tokens);
    }

    /** The same columns for a model whose latent is {@code spec}. */
    public LatentColumns forLatent(org.mipflow.io.LatentSpec spec) {
        return new LatentColumns(id, latent, channels, height, width, reference, dtype, defaultEncoding,
                spec instanceof org.mipflow.io.LatentSpec.Tokens);
    }
}
