package org.mipflow.jobs.decode;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.annotations.SerializedName;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.metrics.FeatureStats;

/**
 * The commit protocol of the decode output, which makes {@code --resume} and task retries safe
 * while many shards share one Spark job.
 *
 * <pre>
 * OUT/images/wave=WAVE/        decoded rows of one wave's shards (each row names its shard's key)
 * OUT/errors/wave=WAVE/        their failed rows
 * OUT/errors/wave=bad-files/   the bad shards (unreadable input files), rewritten by every run
 * OUT/_staging/WAVE/           a wave being written (never read)
 * OUT/_commits/WAVE.json       the wave's commit record: the run's recipe and one entry per shard,
 *                              written last
 * OUT/_commits/WAVE.features   with --features: the feature statistics of every wave committed so
 *                              far, this one included (written just before WAVE.json)
 * </pre>
 *
 * A wave (a set of whole shards, decoded by one Spark job) is written into staging with Spark's
 * own job commit, so a retried or speculative task leaves no trace; then its two directories are
 * renamed into place (two renames per wave, whatever its number of shards), and then the wave's
 * record is written. A run killed at any point leaves either a complete record or none; on
 * resume, staging and every {@code wave=} directory without a record are deleted and their shards
 * are decoded again, so each id is written exactly once. Spark reads OUT/images as one table
 * (with a {@code wave} partition column) and skips the underscore directories.
 */
final class WaveCommits implements AutoCloseable {
    static final String IMAGES = "images";
    static final String ERRORS = "errors";
    /**
     * The errors partition that holds the bad shards (those that could not be read at all;
     * summary.json's {@code bad_shards}). The directory keeps its name, {@code wave=bad-files}, so
     * outputs already written stay one layout.
     */
    static final String BAD_SHARDS = "bad-files";
    static final String COMMITS = "_commits";
    private static final String STAGING = "_staging";
    /** Everything a decode writes directly under OUT (its lease aside): what --overwrite removes. */
    static final OutputDir.Layout LAYOUT = OutputDir.Layout.of("images|errors|_commits|_staging|summary\\.json",
            "images/, errors/, _commits/, summary.json").withResume();

    /** Runs before each commit; throws to stop a run that no longer holds the output's lease. */
    interface BeforeCommit {
        void check() throws IOException;
    }

    /**
     * What one committed shard contributed; per requested metric (by column) its sum, so that
     * means can be pooled across waves and runs. The shard is named by its path (JSON field
     * {@code shard}, as records already written have it); its key, {@link ShardKey#of}, is what the
     * {@code shard} column of images/errors holds.
     */
    record Record(@SerializedName("shard") String shardPath, long input, long decoded, long errors,
            Map<String, MetricSum> metrics) {
        Record {
            metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
        }
    }

    /** A metric's sum over the images that have a value, and their count: means pool exactly. */
    record MetricSum(double sum, long rows) {
        MetricSum plus(MetricSum o) {
            return new MetricSum(sum + o.sum, rows + o.rows);
        }
    }

    /**
     * Feature statistics (rFID, KID) of the waves named, from the feature network with that SHA-256.
     * They are kept cumulatively, one file per wave that replaces the previous one, because a
     * wave's statistics are dim^2 doubles (32 MB for Inception's 2048) whatever its rows: a file
     * per wave would grow with the run, one running total does not.
     */
    record Features(String sha256, Set<String> waves, FeatureStats stats) {}

    private static final String FEATURES_SUFFIX = ".features";
    private static final Gson GSON = new Gson();
    private final Path out;
    private final FileSystem fs;
    /** Deletes and record reads on resume: storage round trips, many at once, never one after another. */
    private final ExecutorService io;
    private final BeforeCommit beforeCommit;

    /** The run's recipe, written into every commit record (null: this instance only reads). */
    private final JsonObject recipe;

    WaveCommits(String out, Configuration conf, BeforeCommit beforeCommit) throws IOException {
        this(out, conf, beforeCommit, null);
    }

    WaveCommits(String out, Configuration conf, BeforeCommit beforeCommit, JsonObject recipe) throws IOException {
        this.out = new Path(out);
        this.beforeCommit = beforeCommit;
        this.recipe = recipe;
        this.fs = this.out.getFileSystem(conf);
        this.io = Executors.newFixedThreadPool(16, r -> {
            Thread t = new Thread(r, "mipflow-commit-io");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * With --resume: the records of every shard already committed, by shard key; whatever a killed
     * run left half-written (staging, {@code wave=} directories without a record) is deleted.
     */
    Map<String, Record> recover() throws IOException {
        return recover(records());
    }

    /**
     * The same, with the records {@link #records()} just read (the caller has compared their
     * recipes with its own before anything is deleted).
     */
    Map<String, Record> recover(Map<String, Record> done) throws IOException {
        Set<String> waves = committedWaves();
        fs.delete(new Path(out, STAGING), true);
        recovered = recoverFeatures(waves);
        List<Callable<Boolean>> deletes = new ArrayList<>();
        for (String what : List.of(IMAGES, ERRORS)) {
            Path dir = new Path(out, what);
            if (!fs.exists(dir)) {
                continue;
            }
            for (FileStatus st : fs.listStatus(dir)) {
                String name = st.getPath().getName();
                String wave = name.startsWith("wave=") ? name.substring("wave=".length()) : null;
                if (wave != null && !waves.contains(wave) && !wave.equals(BAD_SHARDS)) {
                    deletes.add(() -> fs.delete(st.getPath(), true));
                }
            }
        }
        all(deletes);
        return done;
    }

    private Features recovered;
    /** The statistics file the last commit (or the recovery) left, which the next commit replaces. */
    private Path featuresFile;

    /** With --resume: the feature statistics of the committed waves, or null when none were kept. */
    Features recoveredFeatures() {
        return recovered;
    }

    /**
     * The newest statistics file whose waves are all committed (a kill between a wave's statistics
     * and its record leaves one that is not); the others are deleted.
     */
    private Features recoverFeatures(Set<String> committed) throws IOException {
        Path commits = new Path(out, COMMITS);
        if (!fs.exists(commits)) {
            return null;
        }
        Features best = null;
        Path bestPath = null;
        List<Path> stale = new ArrayList<>();
        for (FileStatus st : fs.listStatus(commits)) {
            if (!st.getPath().getName().endsWith(FEATURES_SUFFIX)) {
                continue;
            }
            Features f = readFeatures(st.getPath());
            if (committed.containsAll(f.waves()) && (best == null || f.waves().size() > best.waves().size())) {
                if (bestPath != null) {
                    stale.add(bestPath);
                }
                best = f;
                bestPath = st.getPath();
            } else {
                stale.add(st.getPath());
            }
        }
        for (Path p : stale) {
            fs.delete(p, false);
        }
        featuresFile = bestPath;
        return best;
    }

    private Features readFeatures(Path p) throws IOException {
        try (java.io.DataInputStream in = new java.io.DataInputStream(fs.open(p))) {
            String sha = in.readUTF();
            int n = in.readInt();
            Set<String> waves = new HashSet<>();
            for (int i = 0; i < n; i++) {
                waves.add(in.readUTF());
            }
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            return new Features(sha, waves, FeatureStats.fromBytes(b));
        }
    }

    private void writeFeatures(String wave, Features f) throws IOException {
        Path commits = new Path(out, COMMITS);
        Path tmp = new Path(commits, "." + wave + FEATURES_SUFFIX + ".tmp");
        try (java.io.DataOutputStream os = new java.io.DataOutputStream(fs.create(tmp, true))) {
            os.writeUTF(f.sha256());
            os.writeInt(f.waves().size());
            for (String w : f.waves()) {
                os.writeUTF(w);
            }
            byte[] b = f.stats().toBytes();
            os.writeInt(b.length);
            os.write(b);
        }
        Path dst = new Path(commits, wave + FEATURES_SUFFIX);
        if (!fs.rename(tmp, dst)) {
            throw new IOException("could not write feature statistics " + dst);
        }
    }

    private Set<String> committedWaves() throws IOException {
        Set<String> waves = new HashSet<>();
        Path commits = new Path(out, COMMITS);
        if (fs.exists(commits)) {
            for (FileStatus st : fs.listStatus(commits)) {
                String n = st.getPath().getName();
                if (n.endsWith(".json") && !n.startsWith(".")) {
                    waves.add(n.substring(0, n.length() - ".json".length()));
                }
            }
        }
        return waves;
    }

    /** The recipe of each committed wave that {@link #records()} read last (null: a record without one). */
    private final Map<String, JsonObject> recipes = new java.util.concurrent.ConcurrentHashMap<>();
    private static final JsonObject NO_RECIPE = new JsonObject();

    /** By wave, the recipes the last {@link #records()} found; null for a record written before recipes were. */
    Map<String, JsonObject> recipes() {
        Map<String, JsonObject> m = new java.util.TreeMap<>();
        recipes.forEach((w, r) -> m.put(w, r == NO_RECIPE ? null : r));
        return m;
    }

    /** The records of every committed shard, by shard key; changes nothing. */
    Map<String, Record> records() throws IOException {
        Map<String, Record> done = new HashMap<>();
        recipes.clear();
        Path commits = new Path(out, COMMITS);
        if (fs.exists(commits)) {
            List<Callable<List<Record>>> reads = new ArrayList<>();
            for (FileStatus st : fs.listStatus(commits)) {
                String n = st.getPath().getName();
                if (n.endsWith(".json") && !n.startsWith(".")) {
                    reads.add(() -> readRecord(st.getPath(), n.substring(0, n.length() - ".json".length())));
                }
            }
            for (List<Record> wave : all(reads)) {
                for (Record r : wave) {
                    done.put(ShardKey.of(r.shardPath()), r);
                }
            }
        }
        return done;
    }

    /**
     * A wave's commit record: {@code {"recipe": {...}, "shards": [...]}}; a bare list of shards is
     * a record written before the recipe was part of it.
     */
    private List<Record> readRecord(Path p, String wave) throws IOException {
        try (InputStream in = fs.open(p)) {
            JsonElement json = JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            JsonElement shards = json;
            JsonObject recipe = NO_RECIPE;
            if (json.isJsonObject()) {
                shards = json.getAsJsonObject().get("shards");
                JsonElement r = json.getAsJsonObject().get("recipe");
                recipe = r != null && r.isJsonObject() ? r.getAsJsonObject() : NO_RECIPE;
            }
            recipes.put(wave, recipe);
            return GSON.fromJson(shards, new TypeToken<List<Record>>() {}.getType());
        }
    }

    /** Where a wave's Spark job writes {@code what} (images or errors), one file per task (not per shard). */
    String staging(String wave, String what) {
        return new Path(new Path(new Path(out, STAGING), wave), what).toString();
    }

    String partitionPath(String what, String wave) {
        return partition(what, wave).toString();
    }

    /**
     * Moves the wave's staged outputs into place, then writes its record: the commit point.
     * {@code records} lists every shard of the wave, also those with no rows.
     */
    void commit(String wave, List<Record> records) throws IOException {
        commit(wave, records, null);
    }

    /**
     * The same, with the feature statistics of every wave committed so far ({@code features}
     * includes this wave): written before the record, and the previous wave's file deleted after it.
     */
    void commit(String wave, List<Record> records, Features features) throws IOException {
        beforeCommit.check();
        for (String what : List.of(IMAGES, ERRORS)) {
            fs.mkdirs(new Path(out, what));
            Path src = new Path(staging(wave, what));
            Path dst = partition(what, wave);
            if (!fs.rename(src, dst)) {
                throw new IOException("could not move " + src + " to " + dst);
            }
        }
        Path commits = new Path(out, COMMITS);
        fs.mkdirs(commits);
        if (features != null) {
            writeFeatures(wave, features);
        }
        // Again at the commit point: a holder paused during the renames above stops here, and what
        // it moved has no record, so the run that took over deletes it on --resume.
        beforeCommit.check();
        Path tmp = new Path(commits, "." + wave + ".json.tmp");
        JsonObject record = new JsonObject();
        record.add("recipe", recipe);
        record.add("shards", GSON.toJsonTree(records));
        try (OutputStream os = fs.create(tmp, true)) {
            // nulls kept: a recipe field that does not apply is written as null, not left out
            os.write(new com.google.gson.GsonBuilder().serializeNulls().create().toJson(record)
                    .getBytes(StandardCharsets.UTF_8));
        }
        Path dst = new Path(commits, wave + ".json");
        if (!fs.rename(tmp, dst)) {
            throw new IOException("could not write commit record " + dst);
        }
        if (features != null) {
            if (featuresFile != null) {
                fs.delete(featuresFile, false);
            }
            featuresFile = new Path(commits, wave + FEATURES_SUFFIX);
        }
        fs.delete(new Path(new Path(out, STAGING), wave), true);
    }

    /** After a run in which every wave committed. */
    void dropStaging() throws IOException {
        fs.delete(new Path(out, STAGING), true);
    }

    private Path partition(String what, String wave) {
        return new Path(new Path(out, what), "wave=" + wave);
    }

    private <T> List<T> all(List<Callable<T>> calls) throws IOException {
        List<Future<T>> fs = new ArrayList<>();
        for (Callable<T> c : calls) {
            fs.add(io.submit(c));
        }
        List<T> out = new ArrayList<>();
        try {
            for (Future<T> f : fs) {
                out.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        }
        return out;
    }

    @Override
    public void close() {
        io.shutdownNow();
    }
}
