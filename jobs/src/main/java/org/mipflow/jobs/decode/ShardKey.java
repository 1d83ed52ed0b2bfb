package org.mipflow.jobs.decode;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.fs.Path;

/**
 * A stable directory name for an input shard: its file name (made safe) plus a hash of its full
 * path, since two inputs may hold files of the same name. Computed on the driver from listed
 * paths and in tasks from Spark's {@code _metadata.file_path}, so both are first brought to the
 * same form.
 */
public final class ShardKey {
    private ShardKey() {}

    public static String of(String shardPath) {
        String name = new Path(shardPath).getName().replaceFirst("\\.parquet$", "").replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.length() > 80) {
            name = name.substring(0, 80);
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(shardPath.getBytes(StandardCharsets.UTF_8));
            return name + "-" + HexFormat.of().formatHex(h, 0, 5);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Spark's {@code _metadata.file_path} is a URI string (percent-encoded); a listing gives
     * Hadoop's Path form. This turns the former into the latter.
     */
    public static String fromFilePath(String uri) {
        return new Path(URI.create(uri)).toString();
    }
}
