package org.mipflow.metrics;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.InflaterInputStream;

/**
 * What a decode keeps of its images' features for rFID and KID, mergeable across partitions,
 * waves and runs: the moments of the reference features and of the decoded features (only rows
 * that have both), and a sample of feature rows for KID. The sample is the {@code sampleSize}
 * rows with the smallest keys hash(seed, id): a bottom-k sample is a uniform random sample that
 * merges exactly, so it does not depend on how rows were split into tasks, waves or runs.
 *
 * <p>A row whose features could not be used (a feature network that returned the wrong shape or
 * non-finite values) is not added; the first such reason and the number of rows are kept, and the
 * figures are then withheld with that reason rather than computed over a silently smaller set.
 */
public final class FeatureStats implements Serializable {
    private static final long SAMPLE_SALT = 0x4b49445f53414d50L; // "KID_SAMP": another stream than the noise's

    private final FeatureMoments reference;
    private final FeatureMoments decoded;
    private final int sampleSize;
    private final long seed;
    private final TreeMap<Key, float[][]> sample = new TreeMap<>();
    private String problem;
    private long problemRows;

    /** A sample row's rank: its hash, then its id (natural order keeps the map serializable for Spark). */
    private record Key(long hash, String id) implements Serializable, Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = Long.compare(hash, o.hash);
            return c != 0 ? c : id.compareTo(o.id);
        }
    }

    public FeatureStats(int dim, int sampleSize, long seed) {
        this.reference = new FeatureMoments(dim);
        this.decoded = new FeatureMoments(dim);
        this.sampleSize = sampleSize;
        this.seed = seed;
    }

    public int dim() {
        return reference.dim();
    }

    public long count() {
        return reference.count();
    }

    /** The first reason a row's features were unusable, or null. */
    public String problem() {
        return problem;
    }

    public long problemRows() {
        return problemRows;
    }

    /** Adds one image's decoded and reference features. */
    public void add(String id, float[] decodedFeatures, float[] referenceFeatures) {
        String bad = check(decodedFeatures, "decoded image");
        bad = bad != null ? bad : check(referenceFeatures, "reference");
        if (bad != null) {
            reject("row " + id + ": " + bad);
            return;
        }
        decoded.add(decodedFeatures);
        reference.add(referenceFeatures);
        offer(new Key(key(seed, id), id), new float[][] {referenceFeatures, decodedFeatures});
    }

    /** Counts a row whose features could not be computed; the figures will be withheld. */
    public void reject(String reason) {
        if (problem == null) {
            problem = reason;
        }
        problemRows++;
    }

    private String check(float[] f, String what) {
        if (f == null) {
            return "no features for the " + what;
        }
        if (f.length != dim()) {
            return "the feature network returned " + f.length + " values for the " + what + ", model.json says " + dim();
        }
        for (float v : f) {
            if (!Float.isFinite(v)) {
                return "the feature network returned a non-finite value (" + v + ") for the " + what;
            }
        }
        return null;
    }

    private void offer(Key k, float[][] row) {
        sample.put(k, row);
        if (sample.size() > sampleSize) {
            sample.pollLastEntry();
        }
    }

    static long key(long seed, String id) {
        long h = 0xcbf29ce484222325L ^ seed ^ SAMPLE_SALT;
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        long z = h + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public FeatureStats merge(FeatureStats other) {
        if (other.dim() != dim() || other.sampleSize != sampleSize || other.seed != seed) {
            throw new IllegalArgumentException("cannot merge feature statistics of another kind (dimension "
                    + other.dim() + " vs " + dim() + ", sample " + other.sampleSize + " vs " + sampleSize + ")");
        }
        reference.merge(other.reference);
        decoded.merge(other.decoded);
        other.sample.forEach(this::offer);
        if (problem == null) {
            problem = other.problem;
        }
        problemRows += other.problemRows;
        return this;
    }

    /** rFID and KID, or the reason they cannot be given. */
    public record Figures(Double rfid, Double kid, Double kidStd, long images, int kidImages, int kidSubsetSize,
            String problem) {}

    public Figures figures() {
        if (problem != null) {
            return new Figures(null, null, null, count(), 0, 0, problemRows + " row(s) without usable features, first: "
                    + problem);
        }
        if (count() < 2) {
            return new Figures(null, null, null, count(), 0, 0,
                    "rFID and KID need at least 2 decoded images with a reference and features; have " + count());
        }
        double fid = FrechetDistance.of(reference.mean(), reference.covariance(), decoded.mean(), decoded.covariance());
        float[][] r = new float[sample.size()][];
        float[][] d = new float[sample.size()][];
        int i = 0;
        for (float[][] row : sample.values()) {
            r[i] = row[0];
            d[i++] = row[1];
        }
        KernelInceptionDistance.Result kid = KernelInceptionDistance.of(r, d, KernelInceptionDistance.SUBSETS,
                KernelInceptionDistance.SUBSET_SIZE, seed);
        return new Figures(fid, kid.mean(), kid.std(), count(), r.length, kid.subsetSize(), null);
    }

    /** The ids in the KID sample, in key order (tests check it does not depend on the split). */
    public List<String> sampleIds() {
        List<String> ids = new ArrayList<>();
        sample.keySet().forEach(k -> ids.add(k.id()));
        return ids;
    }

    public byte[] toBytes() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(new DeflaterOutputStream(bytes))) {
            out.writeInt(1); // format version
            out.writeInt(sampleSize);
            out.writeLong(seed);
            reference.write(out);
            decoded.write(out);
            out.writeInt(sample.size());
            for (var e : sample.entrySet()) {
                out.writeLong(e.getKey().hash());
                out.writeUTF(e.getKey().id());
                for (float[] f : e.getValue()) {
                    for (float v : f) {
                        out.writeFloat(v);
                    }
                }
            }
            out.writeBoolean(problem != null);
            if (problem != null) {
                out.writeUTF(problem);
            }
            out.writeLong(problemRows);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    public static FeatureStats fromBytes(byte[] b) throws IOException {
        try (DataInputStream in = new DataInputStream(new InflaterInputStream(new ByteArrayInputStream(b)))) {
            int version = in.readInt();
            if (version != 1) {
                throw new IOException("feature statistics of format " + version + ", this Mipflow reads 1");
            }
            int sampleSize = in.readInt();
            long seed = in.readLong();
            FeatureMoments ref = FeatureMoments.read(in);
            FeatureMoments dec = FeatureMoments.read(in);
            FeatureStats s = new FeatureStats(ref.dim(), sampleSize, seed);
            s.reference.merge(ref);
            s.decoded.merge(dec);
            int n = in.readInt();
            for (int i = 0; i < n; i++) {
                long h = in.readLong();
                String id = in.readUTF();
                float[][] row = new float[2][ref.dim()];
                for (float[] f : row) {
                    for (int k = 0; k < f.length; k++) {
                        f[k] = in.readFloat();
                    }
                }
                s.sample.put(new Key(h, id), row);
            }
            if (in.readBoolean()) {
                s.problem = in.readUTF();
            }
            s.problemRows = in.readLong();
            return s;
        }
    }
}
