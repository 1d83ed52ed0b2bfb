package org.mipflow.sampling;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.random.RandomGenerator;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.LatentRow;
import org.mipflow.io.RowRejected;
import org.mipflow.metrics.MetricSet;

/**
 * The one batched decode loop, whoever decodes (the Spark partition function, bench, eval,
 * audit): cuts a stream of rows into task batches of consecutive rows of one latent shape, samples
 * each batch (network calls of the plan's fixed row count) with every row's noise drawn from
 * (seed, id), then PNG-encodes and scores each image
 * against its reference. Every source comes out exactly once, as an image or with the reason it
 * could not be decoded; lazily, batch by batch.
 */
public final class BatchDecoder {
    private final VelocityModel model;
    private final ImageSampler sampler;
    private final long seed;
    private final MetricSet metrics;
    private final ImageFeatures features;
    private final Batching.Rule batching;
    /** Told what each task batch sent to the network (rows and rows sent per step). */
    private final java.util.function.Consumer<Batching.Traffic> traffic;

    /** Reads a source (a Spark row, a prepared photo) into a validated latent row, or rejects it. */
    @FunctionalInterface
    public interface RowParser<T> {
        LatentRow parse(T source) throws RowRejected;
    }

    /** A source and what became of it. */
    public record Result<T>(T source, DecodedImage image) {}

    public BatchDecoder(VelocityModel model, ImageSampler sampler, long seed, MetricSet metrics, Batching.Rule batching) {
        this(model, sampler, seed, metrics, batching, null, t -> {});
    }

    private BatchDecoder(VelocityModel model, ImageSampler sampler, long seed, MetricSet metrics, Batching.Rule batching,
            ImageFeatures features, java.util.function.Consumer<Batching.Traffic> traffic) {
        this.model = model;
        this.sampler = sampler;
        this.seed = seed;
        this.metrics = metrics;
        this.batching = batching;
        this.features = features;
        this.traffic = traffic;
    }

    /** This loop, also computing the features of each image that has a reference (null: none). */
    public BatchDecoder withFeatures(ImageFeatures f) {
        return new BatchDecoder(model, sampler, seed, metrics, batching, f, traffic);
    }

    /**
     * This loop, telling {@code t} what each sampled task batch sent to the network per step (its
     * rows, and its calls' rows with the padding): summary.json's rows sent and padded.
     */
    public BatchDecoder withTraffic(java.util.function.Consumer<Batching.Traffic> t) {
        return new BatchDecoder(model, sampler, seed, metrics, batching, features, t);
    }

    /** Decodes rows that are already validated, all at once, in their order. */
    public List<DecodedImage> decodeAll(List<LatentRow> rows) {
        List<DecodedImage> out = new ArrayList<>(rows.size());
        decode(rows.iterator(), r -> r).forEachRemaining(r -> out.add(r.image()));
        return out;
    }

    /**
     * Decodes sources as they are pulled. A rejected source comes out at once with its reason; the
     * others come out when their batch is done (so not always in input order).
     */
    public <T> Iterator<Result<T>> decode(Iterator<T> sources, RowParser<T> parser) {
        return new Iterator<>() {
            private final ArrayDeque<Result<T>> ready = new ArrayDeque<>();
            private T carried;
            private LatentRow carriedRow;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && (sources.hasNext() || carried != null)) {
                    fill();
                }
                return !ready.isEmpty();
            }

            @Override
            public Result<T> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void fill() {
                List<T> batchSources = new ArrayList<>();
                List<LatentRow> batch = new ArrayList<>();
                // A batch holds one latent shape, so its first row decides its plan.
                Batching.Plan plan = null;
                if (carried != null) {
                    batchSources.add(carried);
                    batch.add(carriedRow);
                    plan = planFor(carriedRow);
                    carried = null;
                }
                while ((plan == null || batch.size() < plan.taskRows()) && sources.hasNext()) {
                    T s = sources.next();
                    LatentRow r;
                    try {
                        r = parser.parse(s);
                    } catch (RowRejected e) {
                        ready.add(new Result<>(s, DecodedImage.failed(null, e.getMessage())));
                        continue;
                    }
                    if (!batch.isEmpty() && !sameShape(batch.get(0), r)) {
                        carried = s;
                        carriedRow = r;
                        break;
                    }
                    batchSources.add(s);
                    batch.add(r);
                    if (plan == null) {
                        plan = planFor(r);
                    }
                }
                List<DecodedImage> out = finish(plan == null ? List.of() : sample(batch, plan.callRows()));
                for (int i = 0; i < out.size(); i++) {
                    ready.add(new Result<>(batchSources.get(i), out.get(i)));
                }
            }
        };
    }

    private Batching.Plan planFor(LatentRow first) {
        int[] side = model.latent().imageSize(first.height(), first.width());
        return batching.forImage(side[0], side[1]);
    }

    private static boolean sameShape(LatentRow a, LatentRow b) {
        return a.channels() == b.channels() && a.height() == b.height() && a.width() == b.width();
    }

    /** One row after sampling: its image, floats [3,h,w] at {@code offset} of the batch's array, or why it failed. */
    private record Sampled(LatentRow row, float[] images, int offset, int height, int width, double decodeMs,
            String error) {}

    /**
     * The libtorch half. A failed batch is split in halves, each decoded again (still in calls of
     * {@code rowsPerCall} rows, so no image's bytes change), down to the rows that fail alone: one
     * bad row in n costs about 2 log2(n) more batch decodes, not n, and its neighbours decode. An
     * allocation failure is not split: every smaller batch makes calls of the same B rows.
     */
    private List<Sampled> sample(List<LatentRow> rows, int rowsPerCall) {
        try {
            return sampleBatch(rows, rowsPerCall);
        } catch (RuntimeException | OutOfMemoryError e) {
            if (CallOutOfMemory.is(e)) {
                int[] side = model.latent().imageSize(rows.get(0).height(), rows.get(0).width());
                throw e instanceof CallOutOfMemory c ? c : new CallOutOfMemory(rowsPerCall, side[0], side[1], e);
            }
            if (rows.size() == 1) {
                return List.of(new Sampled(rows.get(0), null, 0, 0, 0, 0, "decoder failed: " + e));
            }
            int half = rows.size() / 2;
            List<Sampled> out = new ArrayList<>(sample(rows.subList(0, half), rowsPerCall));
            out.addAll(sample(rows.subList(half, rows.size()), rowsPerCall));
            return out;
        }
    }

    private List<Sampled> sampleBatch(List<LatentRow> rows, int rowsPerCall) {
        LatentRow first = rows.get(0);
        int n = rows.size();
        int zh = first.height();
        int zw = first.width();
        int per = first.channels() * zh * zw;
        float[] z = new float[n * per];
        RandomGenerator[] rngs = new RandomGenerator[n];
        for (int i = 0; i < n; i++) {
            LatentRow r = rows.get(i);
            System.arraycopy(r.latent(), 0, z, i * per, per);
            rngs[i] = RowNoise.forRow(seed, r.id());
        }
        long t0 = System.nanoTime();
        float[] img = sampler.decode(z, n, zh, zw, rngs, rowsPerCall);
        double ms = (System.nanoTime() - t0) / 1e6 / n;
        traffic.accept(new Batching.Plan(n, rowsPerCall).traffic(n));
        int[] side = model.latent().imageSize(zh, zw);
        int h = side[0];
        int w = side[1];
        int px = 3 * h * w;
        List<Sampled> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Sampled(rows.get(i), img, i * px, h, w, ms, null));
        }
        return out;
    }

    /**
     * The Java half: PNG encoding and metrics, each row failing alone, rows in parallel while the
     * network is idle (the feature network, itself a libtorch caller, takes them one by one).
     * (Running it on a second thread while the next batch samples was measured slower on 2 cores:
     * it takes the cores libtorch uses.)
     */
    private List<DecodedImage> finish(List<Sampled> sampled) {
        DecodedImage[] out = new DecodedImage[sampled.size()];
        java.util.function.IntConsumer one = i -> {
            Sampled s = sampled.get(i);
            if (s.error() != null) {
                out[i] = DecodedImage.failed(s.row().id(), s.error());
                return;
            }
            try {
                out[i] = finish(s);
            } catch (RuntimeException e) {
                out[i] = DecodedImage.failed(s.row().id(), "could not encode or score the decoded image: " + e);
            }
        };
        if (features == null) {
            Rows.each(out.length, one);
        } else {
            for (int i = 0; i < out.length; i++) {
                one.accept(i);
            }
        }
        return List.of(out);
    }

    private DecodedImage finish(Sampled s) {
        LatentRow r = s.row();
        float[] img = s.images();
        int px = 3 * s.height() * s.width();
        for (int j = s.offset(); j < s.offset() + px; j++) {
            if (!Float.isFinite(img[j])) {
                return DecodedImage.failed(r.id(), "decoder failed: decoder produced a non-finite value for row " + r.id());
            }
        }
        byte[] png = ImageCodec.png(ImageOps.fromPlanar(img, s.offset(), s.height(), s.width()));
        Map<String, Double> scores =
                r.reference() == null ? Map.of() : metrics.score(img, s.offset(), r.reference(), s.height(), s.width());
        return new DecodedImage(r.id(), png, s.width(), s.height(), sampler.forwardPasses(), s.decodeMs(), scores, null,
                features(r, img, s));
    }

    /** The features of the image as written (8-bit) and of its reference, or why there are none. */
    private DecodedImage.Features features(LatentRow r, float[] img, Sampled s) {
        if (features == null || r.reference() == null) {
            return null;
        }
        int n = 3 * s.height() * s.width();
        float[] decoded = new float[n];
        float[] reference = new float[n];
        for (int i = 0; i < n; i++) {
            decoded[i] = ImageOps.toByte(img[s.offset() + i]);
            reference[i] = ImageOps.toByte(r.reference()[i]);
        }
        try {
            return new DecodedImage.Features(features.of(decoded, s.height(), s.width()),
                    features.of(reference, s.height(), s.width()), null);
        } catch (RuntimeException e) {
            return new DecodedImage.Features(null, null, "feature network failed: " + e.getMessage());
        }
    }
}
