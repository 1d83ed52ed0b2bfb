package org.mipflow.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

/** Grey images become the same planes as the RGB image of the same levels, whatever their storage. */
class ImageOpsTest {
    static final int[] LEVELS = {0, 1, 37, 64, 128, 191, 254, 255};

    static BufferedImage rgbOf(int[] levels) {
        BufferedImage img = new BufferedImage(levels.length, 1, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < levels.length; x++) {
            img.setRGB(x, 0, levels[x] * 0x010101);
        }
        return img;
    }

    @Test
    void greyLevelsAreTheStoredSamples() {
        BufferedImage grey = new BufferedImage(LEVELS.length, 1, BufferedImage.TYPE_BYTE_GRAY);
        for (int x = 0; x < LEVELS.length; x++) {
            grey.getRaster().setSample(x, 0, 0, LEVELS[x]);
        }
        float[] p = ImageOps.toPlanar(grey);
        assertArrayEquals(ImageOps.toPlanar(rgbOf(LEVELS)), p, 0f);
        // 128 stays 128 (getRGB's linear-to-sRGB conversion made it 188)
        assertEquals(128, ImageOps.toByte(p[4]));
    }

    @Test
    void greyPngDecodesToItsLevels() throws Exception {
        BufferedImage grey = new BufferedImage(LEVELS.length, 1, BufferedImage.TYPE_BYTE_GRAY);
        for (int x = 0; x < LEVELS.length; x++) {
            grey.getRaster().setSample(x, 0, 0, LEVELS[x]);
        }
        BufferedImage decoded = ImageCodec.read(ImageCodec.png(grey), Long.MAX_VALUE);
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, decoded.getType());
        assertArrayEquals(ImageOps.toPlanar(rgbOf(LEVELS)), ImageOps.toPlanar(decoded), 0f);
    }

    @Test
    void sixteenBitGreyIsRoundedToEightBits() {
        BufferedImage grey = new BufferedImage(LEVELS.length, 1, BufferedImage.TYPE_USHORT_GRAY);
        for (int x = 0; x < LEVELS.length; x++) {
            grey.getRaster().setSample(x, 0, 0, LEVELS[x] * 257);
        }
        assertArrayEquals(ImageOps.toPlanar(rgbOf(LEVELS)), ImageOps.toPlanar(grey), 0f);
    }
}
