package org.mipflow.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * rFID and KID against a numpy reference (scripts/torch/make_feature_fixture.py), and the merge
 * that lets Spark compute them from partitions, waves and resumed runs.
 */
class FeatureStatsTest {
    static final Path FIXTURE = Path.of("src/test/resources/features");

    /** The fixture's features as PyTorch computed them: 40 references, then their 40 decodes. */
    static float[][] pythonFeatures(JsonObject expected) {
        JsonArray rows = expected.getAsJsonArray("features");
        float[][] f = new float[rows.size()][];
        for (int i = 0; i < f.length; i++) {
            JsonArray r = rows.get(i).getAsJsonArray();
            f[i] = new float[r.size()];
            for (int k = 0; k < f[i].length; k++) {
                f[i][k] = r.get(k).getAsFloat();
            }
        }
        return f;
    }

    static JsonObject expected() throws IOException {
        return JsonParser.parseString(Files.readString(FIXTURE.resolve("expected.json"))).getAsJsonObject();
    }

    /** Row i's stats, split into {@code parts} partitions at random, merged in a random order. */
    static FeatureStats split(float[][] f, int n, int parts, long shuffle) {
        List<FeatureStats> ps = new ArrayList<>();
        for (int p = 0; p < parts; p++) {
            ps.add(new FeatureStats(f[0].length, 1000, 0));
        }
        Random r = new Random(shuffle);
        for (int i = 0; i < n; i++) {
            ps.get(r.nextInt(parts)).add("img-" + i, f[n + i], f[i]);
        }
        Collections.shuffle(ps, r);
        FeatureStats all = new FeatureStats(f[0].length, 1000, 0);
        for (FeatureStats p : ps) {
            all.merge(p);
        }
        return all;
    }

    @Test
    void rfidAndKidAgreeWithTheNumpyReference() throws IOException {
        JsonObject e = expected();
        int n = e.get("count").getAsInt();
        FeatureStats.Figures one = split(pythonFeatures(e), n, 1, 1).figures();
        assertNull(one.problem());
        assertEquals(n, one.images());
        double rfid = e.get("rfid").getAsDouble();
        double kid = e.get("kid").getAsDouble();
        assertEquals(rfid, one.rfid(), 1e-6 * rfid, "rFID");
        // m = 40 < 1000: every subset is the whole set, so KID is the full unbiased MMD^2, std 0
        assertEquals(kid, one.kid(), 1e-6 * kid, "KID");
        assertEquals(0, one.kidStd(), 1e-9 * kid);
        assertEquals(n, one.kidSubsetSize());
        for (int parts : new int[] {2, 7}) {
            FeatureStats.Figures f = split(pythonFeatures(e), n, parts, parts).figures();
            assertEquals(one.rfid(), f.rfid(), 1e-9 * rfid, parts + " partitions");
            assertEquals(one.kid(), f.kid(), 1e-9 * kid, parts + " partitions");
        }
    }

    @Test
    void theSampleRouteGivesTheSameFiguresFromGramMatrices() throws IOException {
        JsonObject e = expected();
        int n = e.get("count").getAsInt();
        float[][] f = pythonFeatures(e);
        float[][] r = java.util.Arrays.copyOfRange(f, 0, n);
        float[][] d = java.util.Arrays.copyOfRange(f, n, 2 * n);
        SampleDistances s = new SampleDistances(r, d);
        double rfid = e.get("rfid").getAsDouble();
        assertEquals(rfid, s.rfid(s.identity()), 1e-6 * rfid);
        assertEquals(e.get("kid").getAsDouble(), s.kid(s.identity()), 1e-6 * e.get("kid").getAsDouble());
        // a resample with repeats: the same as the covariance route over the repeated rows
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = (i * 7) % 23;
        }
        FeatureMoments mr = new FeatureMoments(16);
        FeatureMoments md = new FeatureMoments(16);
        for (int i : idx) {
            mr.add(r[i]);
            md.add(d[i]);
        }
        double direct = FrechetDistance.of(mr.mean(), mr.covariance(), md.mean(), md.covariance());
        assertEquals(direct, s.rfid(idx), 1e-9 * direct);
    }

    @Test
    void kidSubsetsAreDrawnWithoutReplacementAndSeeded() {
        SplittableRandom r = new SplittableRandom(3);
        float[][] x = new float[30][4];
        float[][] y = new float[30][4];
        for (int i = 0; i < 30; i++) {
            for (int k = 0; k < 4; k++) {
                x[i][k] = (float) r.nextGaussian();
                y[i][k] = (float) (r.nextGaussian() + 0.5);
            }
        }
        KernelInceptionDistance.Result a = KernelInceptionDistance.of(x, y, 50, 10, 7);
        assertEquals(a, KernelInceptionDistance.of(x, y, 50, 10, 7));
        assertEquals(10, a.subsetSize());
        assertTrue(a.std() > 0, "subsets of 10 out of 30 differ");
        assertTrue(Math.abs(a.mean() - KernelInceptionDistance.mmd2(x, y)) < 4 * a.std(), a + " vs the full set");
    }

    /**
     * Features far from zero with a small spread: a naive sum of squares would lose every digit of
     * the variance in float64 (1e8 against 1e-4); the Welford and Chan updates keep it.
     */
    @Test
    void mergedMomentsAgreeWithATwoPassComputationOnIllConditionedFeatures() {
        int dim = 3;
        int n = 5000;
        SplittableRandom r = new SplittableRandom(11);
        float[][] x = new float[n][dim];
        for (float[] row : x) {
            double common = r.nextGaussian();
            for (int k = 0; k < dim; k++) {
                row[k] = (float) (1e4 * (k + 1) + 0.01 * (common + r.nextGaussian()));
            }
        }
        double[] mean = new double[dim];
        for (float[] row : x) {
            for (int k = 0; k < dim; k++) {
                mean[k] += row[k];
            }
        }
        for (int k = 0; k < dim; k++) {
            mean[k] /= n;
        }
        double[] cov = new double[dim * dim];
        for (float[] row : x) {
            for (int i = 0; i < dim; i++) {
                for (int j = 0; j < dim; j++) {
                    cov[i * dim + j] += (row[i] - mean[i]) * (row[j] - mean[j]) / (n - 1);
                }
            }
        }
        List<FeatureMoments> parts = new ArrayList<>();
        for (int p = 0; p < 13; p++) {
            parts.add(new FeatureMoments(dim));
        }
        for (int i = 0; i < n; i++) {
            parts.get((i * 7919) % 13).add(x[i]);
        }
        // a pairwise tree, as Spark's treeReduce would merge them
        while (parts.size() > 1) {
            List<FeatureMoments> next = new ArrayList<>();
            for (int i = 0; i < parts.size(); i += 2) {
                next.add(i + 1 < parts.size() ? parts.get(i).merge(parts.get(i + 1)) : parts.get(i));
            }
            parts = next;
        }
        FeatureMoments m = parts.get(0);
        assertEquals(n, m.count());
        assertArrayEquals(mean, m.mean(), 1e-9 * 1e4);
        double[] c = m.covariance();
        for (int i = 0; i < c.length; i++) {
            assertEquals(cov[i], c[i], 1e-9 * Math.abs(cov[i]) + 1e-12, "covariance entry " + i);
        }
        assertTrue(cov[0] > 1e-4 && cov[0] < 4e-4, "the variance the test is about: " + cov[0]);
    }

    @Test
    void theKidSampleDoesNotDependOnTheSplitAndRoundTripsThroughBytes() throws IOException {
        float[][] f = pythonFeatures(expected());
        FeatureStats small = new FeatureStats(16, 5, 42);
        FeatureStats a = new FeatureStats(16, 5, 42);
        FeatureStats b = new FeatureStats(16, 5, 42);
        for (int i = 0; i < 40; i++) {
            small.add("id-" + i, f[40 + i], f[i]);
            (i % 3 == 0 ? a : b).add("id-" + i, f[40 + i], f[i]);
        }
        assertEquals(small.sampleIds(), b.merge(a).sampleIds());
        assertEquals(5, small.sampleIds().size());
        FeatureStats back = FeatureStats.fromBytes(small.toBytes());
        assertEquals(small.sampleIds(), back.sampleIds());
        assertEquals(small.figures(), back.figures());
    }

    @Test
    void unusableFeaturesWithholdTheFiguresWithTheirReason() {
        FeatureStats s = new FeatureStats(4, 10, 0);
        s.add("a", new float[] {1, 2, 3, 4}, new float[] {1, 2, 3, 5});
        FeatureStats.Figures few = s.figures();
        assertNull(few.rfid());
        assertTrue(few.problem().contains("at least 2"), few.problem());
        s.add("b", new float[] {1, 2, 3}, new float[] {1, 2, 3, 4});
        s.add("c", new float[] {1, Float.NaN, 3, 4}, new float[] {1, 2, 3, 4});
        s.add("d", new float[] {2, 2, 3, 4}, new float[] {1, 2, 2, 4});
        FeatureStats.Figures bad = s.figures();
        assertNull(bad.rfid());
        assertNull(bad.kid());
        assertEquals(2, s.problemRows());
        assertNotNull(bad.problem());
        assertTrue(bad.problem().contains("row b: the feature network returned 3 values"), bad.problem());
    }
}
