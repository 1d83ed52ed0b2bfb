package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * The sample latents in a real S3 API (S3Proxy in this JVM, over an in-memory jclouds blobstore),
 * decoded by Spark over s3a://, images and summary written back to the bucket; the PNGs are the
 * same bytes as a run to a local directory.
 */
class S3Test {
    static final String BUCKET = "mipflow";
    static final String ACCESS_KEY = "mipflow-test-access";
    static final String SECRET_KEY = "mipflow-test-secret";
    static final Path SAMPLE_LATENTS = Path.of("../sample-data/latents").toAbsolutePath();
    static final Path MODEL = Path.of("../models/default").toAbsolutePath();

    /** What s3a needs to talk to a local, plain-HTTP, path-style S3 with fixed keys and no AWS around it. */
    static Map<String, String> s3a(String endpoint) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("fs.s3a.endpoint", endpoint);
        m.put("fs.s3a.endpoint.region", "us-east-1");
        m.put("fs.s3a.path.style.access", "true");
        m.put("fs.s3a.connection.ssl.enabled", "false");
        m.put("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
        m.put("fs.s3a.access.key", ACCESS_KEY);
        m.put("fs.s3a.secret.key", SECRET_KEY);
        // Fail within seconds, not minutes, if the server is unreachable or refuses a request.
        m.put("fs.s3a.attempts.maximum", "1");
        m.put("fs.s3a.retry.limit", "1");
        m.put("fs.s3a.retry.throttle.limit", "1");
        m.put("fs.s3a.connection.establish.timeout", "5s");
        m.put("fs.s3a.connection.timeout", "30s");
        return m;
    }

    @Test
    void decodesFromAndToS3(@TempDir Path tmp) throws Exception {
        BlobStoreContext blobs = ContextBuilder.newBuilder("transient").build(BlobStoreContext.class);
        blobs.getBlobStore().createContainerInLocation(null, BUCKET);
        S3Proxy server = S3Proxy.builder()
                .blobStore(blobs.getBlobStore())
                .endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .build();
        SparkSession spark = null;
        try {
            server.start();
            for (int i = 0; i < 500 && !"STARTED".equals(server.getState()); i++) {
                Thread.sleep(10);
            }
            assertEquals("STARTED", server.getState());
            SparkSession.Builder b = SparkTestSession.builder("local[2]", "mipflow-s3")
                    .config("spark.sql.shuffle.partitions", "2");
            s3a("http://127.0.0.1:" + server.getPort()).forEach((k, v) -> b.config("spark.hadoop." + k, v));
            spark = b.getOrCreate();

            String root = "s3a://" + BUCKET;
            String latents = root + "/latents";
            FileSystem s3 = FileSystem.get(URI.create(root + "/"), spark.sparkContext().hadoopConfiguration());
            upload(s3, SAMPLE_LATENTS, latents);
            Set<String> ids = spark.read().parquet(SAMPLE_LATENTS.toString()).select("id").collectAsList().stream()
                    .map(r -> r.getString(0)).collect(Collectors.toSet());
            assertEquals(3, ids.size());

            DecodeSettings s = new DecodeSettings(MODEL.toString(), new SamplerConfig(SamplingMode.ONESTEP, 2,
                    new int[] {1, 1, 1}), 2, 3, 1, null, RowLimits.DEFAULT, null);
            String out = root + "/out";
            DecodeJob.Summary sm = DecodeJob.run(spark, List.of(latents), out, s);
            assertEquals(ids.size(), sm.inputRows());
            assertEquals(ids.size(), sm.decoded());
            assertEquals(0, sm.errors());

            JsonObject summary;
            try (InputStream in = s3.open(new org.apache.hadoop.fs.Path(out + "/summary.json"))) {
                summary = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                        .getAsJsonObject();
            }
            long decoded = summary.get("decoded").getAsLong();
            assertEquals(summary.get("input_rows").getAsLong(), decoded + summary.get("errors").getAsLong());
            assertEquals(ids.size(), decoded);

            Map<String, byte[]> fromS3 = pngs(spark.read().parquet(out + "/images"));
            assertEquals(ids, fromS3.keySet());
            for (byte[] png : fromS3.values()) {
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
                assertEquals(256, img.getWidth());
                assertEquals(256, img.getHeight());
            }

            String local = tmp.resolve("local-out").toString();
            DecodeJob.run(spark, List.of(SAMPLE_LATENTS.toString()), local, s);
            Map<String, byte[]> fromLocal = pngs(spark.read().parquet(local + "/images"));
            assertEquals(ids, fromLocal.keySet());
            for (String id : ids) {
                assertArrayEquals(fromLocal.get(id), fromS3.get(id), id);
            }
        } finally {
            if (spark != null) {
                spark.stop();
            }
            server.stop();
            blobs.close();
        }
    }

    /**
     * Copies the files of a local directory through s3a's output stream, as Spark writes. Not
     * copyFromLocalFile: that goes through the SDK's async client, which sends the body with an
     * x-amz-trailer checksum that S3Proxy answers with 501 Not Implemented.
     */
    static void upload(FileSystem fs, Path dir, String to) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                try (InputStream in = Files.newInputStream(f);
                        OutputStream out = fs.create(new org.apache.hadoop.fs.Path(to, f.getFileName().toString()))) {
                    in.transferTo(out);
                }
            }
        }
    }

    /** id to PNG bytes, each id once, every PNG non-empty. */
    static Map<String, byte[]> pngs(Dataset<Row> images) {
        Map<String, byte[]> m = new HashMap<>();
        for (Row r : images.select("id", "image").collectAsList()) {
            byte[] png = r.getAs("image");
            assertTrue(png != null && png.length > 8, "empty image for " + r.getString(0));
            assertNull(m.put(r.getString(0), png), "id " + r.getString(0) + " appears twice");
        }
        return m;
    }
}
