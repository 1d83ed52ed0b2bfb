package org.mipflow.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import org.mipflow.io.LatentRow;
import org.mipflow.io.RowRejected;
import org.mipflow.metrics.MetricSet;
import org.mipflow.schedule.StageSchedule;

/** The one decode loop: batching by shape, rejections, retries, laziness and batch-invariant bytes. */
class BatchDecoderTest {
    private static final SamplerConfig MULTI = new SamplerConfig(SamplingMode.MULTISCALE, 4, new int[] {2, 2, 2});

    /** Names "bad-*" are rejected; "wide-*" rows are 4x8 latents, the others 4x4; every third has a reference. */
    private static final BatchDecoder.RowParser<String> PARSER = name -> {
        if (name.startsWith("bad-")) {
            throw new RowRejected("rejected " + name);
        }
        int zw = name.startsWith("wide-") ? 8 : 4;
        SplittableRandom r = new SplittableRandom(name.hashCode());
        float[] z = new float[3 * 4 * zw];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (2 * r.nextDouble() - 1);
        }
        float[] ref = null;
        if (name.hashCode() % 3 == 0) {
            ref = new float[3 * 32 * 8 * zw];
            for (int i = 0; i < ref.length; i++) {
                ref[i] = (float) (2 * r.nextDouble() - 1);
            }
        }
        return new LatentRow(name, z, 3, 4, zw, ref);
    };

    private static final List<String> SOURCES = List.of("a-0", "a-1", "bad-2", "wide-3", "wide-4", "a-5", "bad-6",
            "a-7", "a-8", "wide-9", "a-10");

    /** Records each batch the loop hands to the sampler. */
    private static final class Recording implements ImageSampler {
        final ImageSampler inner;
        final List<String> batches = new ArrayList<>();

        Recording(ImageSampler inner) {
            this.inner = inner;
        }

        @Override
        public float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs, int rowsPerCall) {
            batches.add(n + "x" + zh + "x" + zw);
            return inner.decode(z, n, zh, zw, rngs, rowsPerCall);
        }

        @Override
        public int forwardPasses() {
            return inner.forwardPasses();
        }
    }

    private static Map<String, BatchDecoder.Result<String>> decode(ImageSampler sampler, int batch) {
        OracleVelocity model = new OracleVelocity(StageSchedule.DEFAULT);
        BatchDecoder d = new BatchDecoder(model, sampler, 11, MetricSet.DEFAULT, Batching.Rule.fixed(batch, 3));
        Map<String, BatchDecoder.Result<String>> out = new LinkedHashMap<>();
        d.decode(SOURCES.iterator(), PARSER).forEachRemaining(r -> assertNull(out.put(r.source(), r), "twice: " + r.source()));
        return out;
    }

    @Test
    void everySourceComesOutOnceAndBatchesHoldOneShape() throws Exception {
        OracleVelocity model = new OracleVelocity(StageSchedule.DEFAULT);
        Recording sampler = new Recording(new Sampler(model, MULTI));
        Map<String, BatchDecoder.Result<String>> out = decode(sampler, 2);
        assertEquals(SOURCES.size(), out.size());
        for (String s : SOURCES) {
            DecodedImage d = out.get(s).image();
            if (s.startsWith("bad-")) {
                assertEquals("rejected " + s, d.error());
                continue;
            }
            assertTrue(d.ok(), s + ": " + d.error());
            assertEquals(s, d.id());
            assertEquals(32, d.height());
            assertEquals(s.startsWith("wide-") ? 64 : 32, d.width());
            assertEquals(MULTI.forwardPasses(3), d.forwardPasses());
            assertEquals(PARSER.parse(s).reference() != null, d.metric("psnr") != null, s);
        }
        // Consecutive rows of one shape, at most 2: a-0 a-1 | wide-3 wide-4 | a-5 a-7 | a-8 | wide-9 | a-10.
        assertEquals(List.of("2x4x4", "2x4x8", "2x4x4", "1x4x4", "1x4x8", "1x4x4"), sampler.batches);
    }

    @Test
    void imagesDoNotDependOnTheTaskBatch() {
        OracleVelocity model = new OracleVelocity(StageSchedule.DEFAULT);
        Map<String, BatchDecoder.Result<String>> one = decode(new Sampler(model, MULTI), 1);
        for (int batch : new int[] {2, 5, 64}) {
            Map<String, BatchDecoder.Result<String>> other = decode(new Sampler(model, MULTI), batch);
            for (String s : SOURCES) {
                assertArrayEquals(one.get(s).image().png(), other.get(s).image().png(), s + " in task batches of " + batch);
            }
        }
    }

    @Test
    void aFailingBatchIsSplitUntilTheBadRowFailsAlone() throws Exception {
        OracleVelocity model = new OracleVelocity(StageSchedule.DEFAULT);
        Sampler good = new Sampler(model, MULTI);
        // Fails whenever row a-5's latent is in the batch.
        float first = PARSER.parse("a-5").latent()[0];
        ImageSampler flaky = new ImageSampler() {
            @Override
            public float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs, int rowsPerCall) {
                for (int i = 0; i < n; i++) {
                    if (z[i * 3 * zh * zw] == first) {
                        throw new IllegalStateException("boom");
                    }
                }
                return good.decode(z, n, zh, zw, rngs, rowsPerCall);
            }

            @Override
            public int forwardPasses() {
                return good.forwardPasses();
            }
        };
        Map<String, BatchDecoder.Result<String>> out = decode(flaky, 4);
        assertEquals("decoder failed: java.lang.IllegalStateException: boom", out.get("a-5").image().error());
        assertTrue(out.get("a-7").image().ok(), "a-5's batch neighbour decodes");
        assertTrue(out.get("a-8").image().ok());
    }

    @Test
    void sourcesArePulledBatchByBatch() {
        OracleVelocity model = new OracleVelocity(StageSchedule.DEFAULT);
        BatchDecoder d = new BatchDecoder(model, new Sampler(model, MULTI), 0, MetricSet.DEFAULT,
                Batching.Rule.fixed(2, 3));
        int[] pulled = new int[1];
        Iterator<String> counting = new Iterator<>() {
            private final Iterator<String> it = SOURCES.iterator();

            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public String next() {
                pulled[0]++;
                return it.next();
            }
        };
        Iterator<BatchDecoder.Result<String>> results = d.decode(counting, PARSER);
        assertNotNull(results.next());
        assertEquals(2, pulled[0], "the first batch (a-0, a-1) and nothing more");
    }

    /** Rows whose latent starts with this value make every network call they are in fail. */
    private static final float POISON = 12345f;

    /** The oracle network, counting calls, failing those that carry a poisoned row. */
    private static final class Poisonable extends OracleVelocity {
        Poisonable() {
            super(StageSchedule.DEFAULT);
        }

        @Override
        public float[] velocity(float[] x, int n, int h, int w, float[] z, int zh, int zw, double t, int stageType,
                boolean student) {
            int per = z.length / n;
            for (int i = 0; i < n; i++) {
                if (z[i * per] == POISON) {
                    calls++;
                    throw new IllegalStateException("bad row in the call");
                }
            }
            return super.velocity(x, n, h, w, z, zh, zw, t, stageType, student);
        }
    }

    private static List<LatentRow> rows(int n, int bad) throws Exception {
        List<LatentRow> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            LatentRow r = PARSER.parse("a-" + i);
            float[] z = r.latent();
            if (i == bad) {
                z[0] = POISON;
            }
            rows.add(new LatentRow(r.id(), z, r.channels(), r.height(), r.width(), null));
        }
        return rows;
    }

    /**
     * One bad row in a task batch of N = 64 at B = 4: the batch is halved (still in calls of B rows)
     * down to the bad row, so the network calls stay within the bisection bound (the batch, then
     * two halves per level: P ceil(N/B) + 2 P sum over levels of ceil(N/2^k/B), P the passes),
     * far under a row-by-row retry's P (ceil(N/B) + N); every other row decodes, with the bytes
     * of a run without the bad row.
     */
    @Test
    void oneBadRowCostsAboutTwoLog2NBatchDecodesNotN() throws Exception {
        int n = 64;
        int b = 4;
        Poisonable model = new Poisonable();
        Sampler sampler = new Sampler(model, MULTI);
        List<DecodedImage> out = new BatchDecoder(model, sampler, 11, MetricSet.DEFAULT, Batching.Rule.fixed(n, b))
                .decodeAll(rows(n, 37));
        int passes = sampler.forwardPasses();
        long bound = (long) passes * ((n + b - 1) / b);
        for (int size = n / 2; size >= 1; size /= 2) {
            bound += 2L * passes * ((size + b - 1) / b);
        }
        long rowByRow = (long) passes * ((n + b - 1) / b + n);
        assertTrue(model.calls <= bound, model.calls + " network calls, bound " + bound);
        assertTrue(model.calls < rowByRow / 2, model.calls + " network calls against " + rowByRow + " row by row");
        assertEquals("decoder failed: java.lang.IllegalStateException: bad row in the call", out.get(37).error());

        OracleVelocity clean = new OracleVelocity(StageSchedule.DEFAULT);
        List<DecodedImage> ref = new BatchDecoder(clean, new Sampler(clean, MULTI), 11, MetricSet.DEFAULT,
                Batching.Rule.fixed(n, b)).decodeAll(rows(n, -1));
        for (int i = 0; i < n; i++) {
            if (i != 37) {
                assertTrue(out.get(i).ok(), i + ": " + out.get(i).error());
                assertArrayEquals(ref.get(i).png(), out.get(i).png(), "row " + i);
            }
        }
    }

    /** An allocation failure is not split (every half would call with the same B): it ends the batch, naming B. */
    @Test
    void outOfMemoryIsNotRetriedButNamesB() throws Exception {
        int[] batches = new int[1];
        ImageSampler oom = new ImageSampler() {
            @Override
            public float[] decode(float[] z, int n, int zh, int zw, RandomGenerator[] rngs, int rowsPerCall) {
                batches[0]++;
                throw new RuntimeException("CUDA out of memory. Tried to allocate 2.00 GiB");
            }

            @Override
            public int forwardPasses() {
                return 1;
            }
        };
        OracleVelocity model = new OracleVelocity(StageSchedule.DEFAULT);
        BatchDecoder d = new BatchDecoder(model, oom, 11, MetricSet.DEFAULT, Batching.Rule.fixed(16, 4));
        CallOutOfMemory e = org.junit.jupiter.api.Assertions.assertThrows(CallOutOfMemory.class,
                () -> d.decodeAll(rows(16, -1)));
        assertEquals(1, batches[0], "no retry");
        assertEquals(4, e.callRows());
        assertEquals(32, e.height());
        assertTrue(CallOutOfMemory.is(new IllegalStateException("x", new RuntimeException(
                "DefaultCPUAllocator: not enough memory: you tried to allocate 1 bytes"))));
        assertTrue(!CallOutOfMemory.is(new IllegalStateException("bad row")));
    }
}
