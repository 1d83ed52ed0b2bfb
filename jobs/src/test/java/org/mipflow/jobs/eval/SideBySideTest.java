package org.mipflow.jobs.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The picture puts photo r's image of kind c at row r, column c, with white gaps around every tile. */
class SideBySideTest {
    static byte[] tile(int side, int rgb) throws Exception {
        BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    @Test
    void rowsArePhotosAndColumnsAreKinds() throws Exception {
        int side = 10;
        SideBySide sheet = new SideBySide();
        for (int c = 0; c < 3; c++) {
            List<byte[]> column = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                column.add(tile(side, (r * 3 + c + 1) * 0x0F0F0F));
            }
            sheet.addColumn(column);
        }
        BufferedImage img = sheet.render();
        int g = SideBySide.GAP;
        assertEquals(3 * side + 4 * g, img.getWidth());
        assertEquals(2 * side + 3 * g, img.getHeight());
        for (int r = 0; r < 2; r++) {
            for (int c = 0; c < 3; c++) {
                int x = g + c * (side + g) + side / 2;
                int y = g + r * (side + g) + side / 2;
                assertEquals((r * 3 + c + 1) * 0x0F0F0F, img.getRGB(x, y) & 0xFFFFFF, "row " + r + " column " + c);
            }
        }
        assertEquals(0xFFFFFF, img.getRGB(g + side + g / 2, g + side / 2) & 0xFFFFFF, "the gap is white");
        Path jpg = tmp.resolve("side-by-side.jpg");
        sheet.writeJpeg(jpg);
        BufferedImage back = ImageIO.read(jpg.toFile());
        assertEquals(img.getWidth(), back.getWidth());
        assertEquals(img.getHeight(), back.getHeight());
    }

    @TempDir
    Path tmp;
}
