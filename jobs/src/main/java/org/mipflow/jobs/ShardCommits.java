package org.mipflow.jobs;

import com.google.gson.Gson;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The per-shard commit protocol of the decode output, which is what makes {@code --resume} safe.
 *
 * <pre>
 * OUT/images/shard=KEY/   decoded rows of one input shard
 * OUT/errors/shard=KEY/   its failed rows
 * OUT/_staging/KEY/       a shard being written (never read)
 * OUT/_commits/KEY.json   the commit record: written last, so a shard counts as done only if it exists
 * </pre>
 *
 * A shard is written into staging, its two directories are renamed into place, and then its
 * record is written. A run killed at any point leaves either a complete record or none; on resume,
 * staging and the directories of every shard without a record are deleted and that shard is
 * decoded again, so each id is written exactly once. Spark reads OUT/images as one table (with a
 * {@code shard} partition column) and skips the underscore directories.
 */
final class ShardCommits {
    static final String IMAGES = "images";
    static final String ERRORS = "errors";
    /** The errors partition that holds the shards that could not be read at all. */
    static final String BAD_FILES_KEY = "bad-files";

    /** What one committed shard contributed; metric sums so that means can be pooled across runs. */
    record Record(String shard, long input, long decoded, long errors, double psnrSum, long psnrRows, double ssimSum,
            long ssimRows, double seconds) {}

    private static final Gson GSON = new Gson();
    private final Path out;
    private final FileSystem fs;

    ShardCommits(String out, Configuration conf) throws IOException {
        this.out = new Path(out);
        this.fs = this.out.getFileSystem(conf);
    }

    /**
     * A stable directory name for an input shard: its file name (made safe) plus a hash of the
     * full path, since two inputs may hold files of the same name.
     */
    static String key(String shardPath) {
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

    /** Without --resume: removes everything an earlier run wrote here (and nothing else). */
    void startFresh() throws IOException {
        for (String d : List.of(IMAGES, ERRORS, "_staging", "_commits", "summary.json")) {
            fs.delete(new Path(out, d), true);
        }
    }

    /**
     * With --resume: the records of shards already committed, keyed by shard key; everything a
     * killed run left half-written is deleted.
     */
    Map<String, Record> recover(List<String> shards) throws IOException {
        Map<String, Record> done = new HashMap<>();
        Path commits = new Path(out, "_commits");
        if (fs.exists(commits)) {
            for (FileStatus st : fs.listStatus(commits)) {
                String name = st.getPath().getName();
                if (!name.endsWith(".json")) {
                    continue;
                }
                try (InputStream in = fs.open(st.getPath())) {
                    Record r = GSON.fromJson(new String(in.readAllBytes(), StandardCharsets.UTF_8), Record.class);
                    done.put(name.substring(0, name.length() - ".json".length()), r);
                }
            }
        }
        fs.delete(new Path(out, "_staging"), true);
        for (String s : shards) {
            String k = key(s);
            if (!done.containsKey(k)) {
                fs.delete(partition(IMAGES, k), true);
                fs.delete(partition(ERRORS, k), true);
            }
        }
        return done;
    }

    String staging(String key, String what) {
        return new Path(new Path(new Path(out, "_staging"), key), what).toString();
    }

    String partitionPath(String what, String key) {
        return partition(what, key).toString();
    }

    /** Moves the shard's staged output into place, then writes its record: the commit point. */
    void commit(String key, Record r) throws IOException {
        for (String what : List.of(IMAGES, ERRORS)) {
            Path dst = partition(what, key);
            fs.mkdirs(dst.getParent());
            Path src = new Path(staging(key, what));
            if (!fs.rename(src, dst)) {
                throw new IOException("could not move " + src + " to " + dst);
            }
        }
        Path commits = new Path(out, "_commits");
        fs.mkdirs(commits);
        Path tmp = new Path(commits, "." + key + ".json.tmp");
        try (OutputStream os = fs.create(tmp, true)) {
            os.write(GSON.toJson(r).getBytes(StandardCharsets.UTF_8));
        }
        Path dst = new Path(commits, key + ".json");
        fs.delete(dst, false);
        if (!fs.rename(tmp, dst)) {
            throw new IOException("could not write commit record " + dst);
        }
        fs.delete(new Path(new Path(out, "_staging"), key), true);
    }

    /** After a run in which every shard committed. */
    void dropStaging() throws IOException {
        fs.delete(new Path(out, "_staging"), true);
    }

    private Path partition(String what, String key) {
        return new Path(new Path(out, what), "shard=" + key);
    }
}
