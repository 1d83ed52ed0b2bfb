import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.Arrays;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Splits full-50's error into the teacher's one-pass error and the cost of sampling, from the PNGs
 * that {@code bin/mipflow eval --modes full,mean} writes (PHOTO-full.png, -mean.png, -original.png):
 *
 * <pre>  java scripts/ErrorSplit.java EVAL_DIR...</pre>
 *
 * MSE(full, original) = MSE(mean, original) + MSE(full, mean) + cross, pooled over the photos, in
 * 8-bit levels squared; a negative cross term is the part of a sample's departure from the one
 * pass that goes towards the original (models/README.md). Plain Java, no project classes: it reads
 * only the written images.
 */
public class ErrorSplit {
    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            System.err.println("usage: java scripts/ErrorSplit.java EVAL_DIR...");
            System.exit(2);
        }
        for (String arg : args) {
            File dir = new File(arg);
            String[] fulls = dir.list((d, n) -> n.endsWith("-full.png"));
            if (fulls == null || fulls.length == 0) {
                System.err.println(arg + ": no *-full.png (run eval with --modes full,mean)");
                System.exit(1);
            }
            Arrays.sort(fulls);
            double fullOrig = 0;
            double meanOrig = 0;
            double fullMean = 0;
            for (String name : fulls) {
                String photo = name.substring(0, name.length() - "-full.png".length());
                double[] full = pixels(new File(dir, name));
                double[] mean = pixels(new File(dir, photo + "-mean.png"));
                double[] orig = pixels(new File(dir, photo + "-original.png"));
                fullOrig += mse(full, orig);
                meanOrig += mse(mean, orig);
                fullMean += mse(full, mean);
            }
            int n = fulls.length;
            System.out.printf(Locale.ROOT, "%s (%d photos): MSE(full, original) %.1f = MSE(mean, original) %.1f"
                    + " + MSE(full, mean) %.1f + cross %.1f%n", dir.getName(), n, fullOrig / n, meanOrig / n,
                    fullMean / n, (fullOrig - meanOrig - fullMean) / n);
        }
    }

    private static double[] pixels(File f) throws IOException {
        BufferedImage im = ImageIO.read(f);
        if (im == null) {
            throw new IOException(f + " is missing or not an image");
        }
        double[] v = new double[im.getWidth() * im.getHeight() * 3];
        int k = 0;
        for (int y = 0; y < im.getHeight(); y++) {
            for (int x = 0; x < im.getWidth(); x++) {
                int rgb = im.getRGB(x, y);
                v[k++] = (rgb >> 16) & 255;
                v[k++] = (rgb >> 8) & 255;
                v[k++] = rgb & 255;
            }
        }
        return v;
    }

    private static double mse(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("images of different sizes");
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            s += d * d;
        }
        return s / a.length;
    }
}
