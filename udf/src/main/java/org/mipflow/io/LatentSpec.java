package org.mipflow.io;

import java.io.Serializable;

/**
 * What a model takes as its latent: a C x h x w grid whose image is {@code downsample} times
 * larger (Mipflow's own tokenizer), or a sequence of T tokens of D values with an image size of
 * the model's own (the 1D tokenizers most diffusion decoders are trained with). A token latent
 * travels as a LatentRow of 1 x T x D.
 */
public sealed interface LatentSpec extends Serializable {
    /** The decoded image's height and width for a latent of zh x zw. */
    int[] imageSize(int zh, int zw);

    /** "4 x h x w grid" or "128 x 32 tokens", for messages. */
    String describe();

    /** @param sideMultiple zh and zw must be multiples of this (the stage pyramid needs it) */
    record Grid(int channels, int downsample, int sideMultiple) implements LatentSpec {
        @Override
        public int[] imageSize(int zh, int zw) {
            return new int[] {zh * downsample, zw * downsample};
        }

        @Override
        public String describe() {
            return channels + " x h x w grid";
        }
    }

    /** @param imageSize the side of the (square) image the decoder was trained to produce */
    record Tokens(int tokens, int dim, int imageSize) implements LatentSpec {
        public Tokens {
            if (tokens < 1 || dim < 1 || imageSize < 1) {
                throw new IllegalArgumentException("tokens, dim and imageSize must be positive");
            }
        }

        @Override
        public int[] imageSize(int zh, int zw) {
            return new int[] {imageSize, imageSize};
        }

        @Override
        public String describe() {
            return tokens + " x " + dim + " tokens";
        }
    }
}
