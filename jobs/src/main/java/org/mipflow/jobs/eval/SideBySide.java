package org.mipflow.jobs.eval;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * One picture of the originals and their reconstructions: a row per photo, a column per image kind
 * (the original first, then each mode in the order evaluated), on a white ground with a gap between
 * tiles. No text is drawn, so no font is needed on a headless machine; the docs caption names the
 * columns. Written as a JPEG of high quality: a PNG of 3 x 4 tiles of 256 px is 2 MB, too much for
 * a picture the docs keep in the repository; the PNGs of every image stay beside it, lossless.
 */
final class SideBySide {
    static final int GAP = 4;

    private final List<List<BufferedImage>> rows = new ArrayList<>();

    /** Adds a column to the first {@code pngs.size()} rows (the row count is fixed by the first column). */
    void addColumn(List<byte[]> pngs) {
        for (int i = 0; i < pngs.size(); i++) {
            if (rows.size() <= i) {
                rows.add(new ArrayList<>());
            }
            rows.get(i).add(read(pngs.get(i)));
        }
    }

    BufferedImage render() {
        if (rows.isEmpty()) {
            throw new IllegalStateException("no images");
        }
        int tile = rows.get(0).get(0).getWidth();
        int cols = rows.stream().mapToInt(List::size).max().orElse(0);
        BufferedImage out = new BufferedImage(cols * tile + (cols + 1) * GAP, rows.size() * tile + (rows.size() + 1) * GAP,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            for (int r = 0; r < rows.size(); r++) {
                for (int c = 0; c < rows.get(r).size(); c++) {
                    g.drawImage(rows.get(r).get(c), GAP + c * (tile + GAP), GAP + r * (tile + GAP), null);
                }
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /** JPEG quality: its artefacts stay well below the differences between the modes shown. */
    static final float QUALITY = 0.92f;

    void writeJpeg(Path file) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            ImageWriteParam p = w.getDefaultWriteParam();
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(QUALITY);
            w.setOutput(out);
            w.write(null, new IIOImage(render(), null, null), p);
        } finally {
            w.dispose();
        }
    }

    private static BufferedImage read(byte[] png) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            if (img == null) {
                throw new IllegalArgumentException("not a PNG");
            }
            return img;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
