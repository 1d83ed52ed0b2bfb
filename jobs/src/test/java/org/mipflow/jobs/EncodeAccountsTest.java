package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * encode accounts for every file it is given: two files that differ only in the extension both
 * come back from decode, a truncated JPEG goes to errors with the reason, a text file is listed,
 * a 32 px icon is said to be upscaled; a folder of Parquet files with a README and a broken file
 * is encoded without a stack trace.
 */
class EncodeAccountsTest {
    static final Path PHOTOS = Path.of("../sample-data/photos");

    @Test
    void everyFileOfAFolderIsAccountedFor(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Path in = Files.createDirectories(tmp.resolve("in"));
        Files.copy(PHOTOS.resolve("citrus-fruits.jpg"), in.resolve("citrus.jpg"));
        Files.copy(PHOTOS.resolve("cincinnati-bridge.jpg"), in.resolve("f3.jpg"));
        ImageIO.write(ImageIO.read(PHOTOS.resolve("european-honey-bee.jpg").toFile()), "png", in.resolve("f3.png").toFile());
        byte[] jpeg = Files.readAllBytes(PHOTOS.resolve("citrus-fruits.jpg"));
        Files.write(in.resolve("trunc.jpg"), Arrays.copyOf(jpeg, jpeg.length / 3));
        Files.writeString(in.resolve("notes.txt"), "photos from the trip\n");
        BufferedImage icon = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        icon.setRGB(3, 4, 0xff8800);
        ImageIO.write(icon, "png", in.resolve("icon.png").toFile());

        Path out = tmp.resolve("lat");
        CliTest.Output r = CliTest.runCapturing("encode", "--input", in.toString(), "--out", out.toString(), "--model",
                model.toString(), "--size", "64", "--master", "local[1]");
        assertEquals(0, r.code(), r.out() + r.err());
        String o = r.out();
        assertTrue(o.contains("encode: 5 image file(s), 0 Parquet file(s) (0 unusable), 1 other file(s)\n"), o);
        assertTrue(o.contains("encoded 4 image(s); 1 unreadable, truncated or unusable (in " + out + "/_errors)\n"
                + "errors by reason:\n  1 row(s): cannot read image: image is truncated ("), o);
        assertTrue(o.contains("(e.g. id trunc)\n"), o);
        assertTrue(o.contains("not images, skipped: " + in.resolve("notes.txt") + "\n"), o);
        assertTrue(o.contains("ids that keep their extension (file names that differ only in it): f3.jpg, f3.png\n"), o);
        assertTrue(o.contains("upscaled to 64 px (shorter side smaller): 1 image(s): icon (32x32)\n"), o);
        assertTrue(r.err().isBlank(), r.err());

        SparkSession spark = SparkTestSession.start("local[1]", "encode-accounts");
        try {
            Set<String> ids = spark.read().parquet(out.toString()).select("id").collectAsList().stream()
                    .map(x -> x.getString(0)).collect(Collectors.toSet());
            assertEquals(Set.of("citrus", "f3.jpg", "f3.png", "icon"), ids);
            List<Row> errors = spark.read().parquet(out + "/_errors").collectAsList();
            assertEquals(1, errors.size());
            assertEquals("trunc", errors.get(0).getAs("id"));
            assertTrue(((String) errors.get(0).getAs("source_file")).endsWith("trunc.jpg"), errors.toString());
        } finally {
            spark.stop();
        }
        CliTest.Output d = CliTest.runCapturing("decode", "--input", out.toString(), "--out", tmp.resolve("dec").toString(),
                "--model", model.toString(), "--master", "local[1]", "--stage-steps", "1");
        assertEquals(0, d.code(), d.out() + d.err());
        assertTrue(d.out().contains("input rows 4 = decoded 4 + errors 0"), d.out());
    }

    @Test
    void aParquetFolderWithOtherFilesIsEncodedWithoutATrace(@TempDir Path tmp) throws Exception {
        Path model = TestModels.tiny(tmp.resolve("m"));
        Path in = tmp.resolve("in");
        SparkSession spark = SparkTestSession.start("local[1]", "encode-parquet");
        try {
            List<Row> rows = List.of(
                    RowFactory.create("bee", Files.readAllBytes(PHOTOS.resolve("european-honey-bee.jpg"))),
                    RowFactory.create("bridge", Files.readAllBytes(PHOTOS.resolve("cincinnati-bridge.jpg"))));
            spark.createDataFrame(rows, DataTypes.createStructType(List.of(
                    DataTypes.createStructField("id", DataTypes.StringType, false),
                    DataTypes.createStructField("image", DataTypes.BinaryType, false))))
                    .coalesce(1).write().parquet(in.toString());
        } finally {
            spark.stop();
        }
        Files.writeString(in.resolve("README.txt"), "two photos\n");
        Files.writeString(in.resolve("broken.parquet"), "PAR1 but not really");
        Path out = tmp.resolve("lat");
        CliTest.Output r = CliTest.runCapturing("encode", "--input", in.toString(), "--out", out.toString(), "--model",
                model.toString(), "--size", "64", "--master", "local[1]");
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("encode: 0 image file(s), 2 Parquet file(s) (1 unusable), 1 other file(s)\n"), r.out());
        assertTrue(r.out().contains("encoded 2 image(s); 1 unreadable, truncated or unusable"), r.out());
        assertTrue(r.out().contains("  unusable Parquet file " + in.toUri().toString().replace("file:///", "file:/")
                + "broken.parquet: not a readable Parquet file ("), r.out());
        assertTrue(r.out().contains("not images, skipped: " + in.resolve("README.txt")), r.out());
        assertFalse(r.out().contains("\tat ") || r.err().contains("Exception"), r.out() + r.err());
    }
}
