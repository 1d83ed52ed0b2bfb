package org.mipflow.io;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * PNG/JPEG decoding that checks the declared size before decoding the pixels, so a small file
 * that claims a huge image (a decompression bomb) is refused before any large allocation.
 */
public final class ImageCodec {
    /** Default pixel limit: 64 megapixels. */
    public static final long DEFAULT_MAX_PIXELS = 64L << 20;

    static {
        ImageIO.setUseCache(false);
    }

    private ImageCodec() {}

    public static BufferedImage read(byte[] data, long maxPixels) throws IOException {
        if (data == null || data.length == 0) {
            throw new IOException("empty image data");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new IOException("not a PNG or JPEG image (no decoder recognises the data)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw new IOException("image declares an empty size " + w + "x" + h);
                }
                if (w * h > maxPixels) {
                    throw new IOException("image declares " + w + "x" + h + " pixels, above the limit of " + maxPixels);
                }
                // A JPEG cut short decodes without an exception (the rest comes out grey): its decoder
                // only warns, so a premature end is turned into the error it is.
                List<String> warnings = new ArrayList<>();
                reader.addIIOReadWarningListener((r, warning) -> warnings.add(warning));
                BufferedImage img = reader.read(0);
                if (img == null) {
                    throw new IOException("image could not be decoded");
                }
                for (String warning : warnings) {
                    if (warning.toLowerCase(java.util.Locale.ROOT).contains("premature end")) {
                        throw new IOException("image is truncated (" + warning + ")");
                    }
                }
                return img;
            } catch (RuntimeException e) {
                throw new IOException("image could not be decoded: " + (e.getMessage() == null
                        ? e.getClass().getSimpleName() : e.getMessage()), e);
            } finally {
                reader.dispose();
            }
        }
    }

    public static BufferedImage read(Path file, long maxPixels) throws IOException {
        return read(Files.readAllBytes(file), maxPixels);
    }

    public static byte[] png(BufferedImage img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(img.getWidth() * img.getHeight() * 2);
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
