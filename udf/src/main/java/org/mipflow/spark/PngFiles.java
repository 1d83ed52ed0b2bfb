package org.mipflow.spark;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.ChecksumFileSystem;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.mipflow.model.Checksums;

/**
 * Writes one PNG per image under --png-dir. File names come from the id but can never leave
 * the directory: only [A-Za-z0-9._-] survive, the name is capped, and a hash of the full id
 * keeps distinct ids apart after that folding.
 */
public final class PngFiles {
    private PngFiles() {}

    public static String fileName(String id) {
        StringBuilder sb = new StringBuilder();
        for (char ch : id.toCharArray()) {
            boolean ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')
                    || ch == '-' || ch == '_';
            sb.append(ok ? ch : '_');
            if (sb.length() >= 80) {
                break;
            }
        }
        String hash = Checksums.sha256(id.getBytes(StandardCharsets.UTF_8)).substring(0, 10);
        return sb + "-" + hash + ".png";
    }

    public static void write(String dir, String id, byte[] png) throws IOException {
        Path p = new Path(dir, fileName(id));
        FileSystem fs = p.getFileSystem(HadoopConf.current());
        // A local directory gets the PNGs only: the checksum wrapper's .crc siblings are for Hadoop
        // readers, and a user browsing the folder finds one stray file per image.
        if (fs instanceof ChecksumFileSystem c) {
            fs = c.getRawFileSystem();
        }
        try (OutputStream out = fs.create(p, true)) {
            out.write(png);
        }
    }
}
