package org.mipflow.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.ImageOps;
import org.mipflow.jobs.cli.UsageException;

/** The bank takes colour, grey and palette photos alike, and names a photo it cannot decode. */
class PhotoBankTest {
    static final int[] SIDES = {64, 80};

    static void write(Path file, int type, int w, int h, String format) throws Exception {
        BufferedImage img = new BufferedImage(w, h, type);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (type == BufferedImage.TYPE_BYTE_GRAY) {
                    img.getRaster().setSample(x, y, 0, 0x7f); // setRGB would store the linear-light level
                } else {
                    img.setRGB(x, y, 0x7f7f7f);
                }
            }
        }
        Files.createDirectories(file.getParent());
        assertTrue(ImageIO.write(img, format, file.toFile()));
    }

    @Test
    void loadsColourGreyAndPalettePhotosAtEverySide(@TempDir Path dir) throws Exception {
        write(dir.resolve("pkg/rgb.jpg"), BufferedImage.TYPE_INT_RGB, 96, 72, "jpg");
        write(dir.resolve("pkg/grey.png"), BufferedImage.TYPE_BYTE_GRAY, 70, 90, "png");
        write(dir.resolve("pkg/palette.png"), BufferedImage.TYPE_BYTE_INDEXED, 66, 66, "png");
        write(dir.resolve("pkg/small.png"), BufferedImage.TYPE_INT_RGB, 40, 90, "png");
        Path list = dir.resolve("list.lst");
        Files.writeString(list, "pkg/rgb.jpg\npkg/grey.png\n\npkg/palette.png\npkg/small.png\n");
        PhotoBank bank = PhotoBank.load(dir, list, SIDES, SIDES[0], 2);
        assertEquals(3 * SIDES.length, bank.size());
        assertEquals(1, bank.skipped());
        // every crop is the mid grey the photos hold (JPEG may move it by a level or two)
        float[] crop = bank.randomCrop(48, new SplittableRandom(1));
        for (float v : crop) {
            assertTrue(Math.abs(ImageOps.toByte(v) - 0x7f) <= 3, "level " + ImageOps.toByte(v));
        }
    }

    @Test
    void namesAPhotoItCannotDecode(@TempDir Path dir) throws Exception {
        write(dir.resolve("pkg/good.png"), BufferedImage.TYPE_INT_RGB, 96, 96, "png");
        Files.write(dir.resolve("pkg/broken.jpg"), new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0, 1, 2});
        Path list = dir.resolve("list.lst");
        Files.writeString(list, "pkg/good.png\npkg/broken.jpg\n");
        UsageException e = assertThrows(UsageException.class, () -> PhotoBank.load(dir, list, SIDES, SIDES[0], 2));
        assertTrue(e.getMessage().startsWith("training photo " + dir.resolve("pkg/broken.jpg") + " cannot be decoded"),
                e.getMessage());
        Files.writeString(list, "pkg/good.png\npkg/gone.png\n");
        e = assertThrows(UsageException.class, () -> PhotoBank.load(dir, list, SIDES, SIDES[0], 2));
        assertTrue(e.getMessage().contains("training photo missing: " + dir.resolve("pkg/gone.png")), e.getMessage());
    }
}
