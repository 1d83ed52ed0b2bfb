package org.mipflow.sampling;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.mipflow.io.ImageCodec;
import org.mipflow.io.ImageOps;
import org.mipflow.io.LatentRow;
import org.mipflow.metrics.MetricSet;

/**
 * Decodes validated rows of one latent shape as one batch: sampling, then PNG encoding and
 * metrics against the (already validated) reference.
 */
public final class BatchDecoder {
    private final Sampler sampler;
    private final VelocityModel model;
    private final long seed;
    private final MetricSet metrics;

    public BatchDecoder(VelocityModel model, SamplerConfig cfg, long seed) {
        this(model, cfg, seed, MetricSet.DEFAULT);
    }

    public BatchDecoder(VelocityModel model, SamplerConfig cfg, long seed, MetricSet metrics) {
        this.model = model;
        this.sampler = new Sampler(model, cfg);
        this.seed = seed;
        this.metrics = metrics;
    }

    /** One row after sampling: its image, floats [3,h,w] at {@code offset} of the batch's array, or why it failed. */
    private record Sampled(LatentRow row, float[] images, int offset, int height, int width, double decodeMs,
            String error) {}

    public List<DecodedImage> decode(List<LatentRow> rows) {
        return finish(sample(rows));
    }

    /**
     * The libtorch half. A failure of the batch is retried row by row so that one bad row cannot
     * take its neighbours along.
     */
    private List<Sampled> sample(List<LatentRow> rows) {
        if (rows.isEmpty()) {
            return List.of();
        }
        try {
            return sampleBatch(rows);
        } catch (RuntimeException e) {
            if (rows.size() == 1) {
                return List.of(new Sampled(rows.get(0), null, 0, 0, 0, 0, "decoder failed: " + e));
            }
            List<Sampled> out = new ArrayList<>();
            for (LatentRow r : rows) {
                out.addAll(sample(List.of(r)));
            }
            return out;
        }
    }

    private List<Sampled> sampleBatch(List<LatentRow> rows) {
        LatentRow first = rows.get(0);
        int n = rows.size();
        int c = first.channels();
        int zh = first.height();
        int zw = first.width();
        int per = c * zh * zw;
        float[] z = new float[n * per];
        RandomGenerator[] rngs = new RandomGenerator[n];
        for (int i = 0; i < n; i++) {
            LatentRow r = rows.get(i);
            if (r.channels() != c || r.height() != zh || r.width() != zw) {
                throw new IllegalArgumentException("a batch must hold one latent shape");
            }
            System.arraycopy(r.latent(), 0, z, i * per, per);
            rngs[i] = RowNoise.forRow(seed, r.id());
        }
        long t0 = System.nanoTime();
        float[] img = sampler.decode(z, n, zh, zw, rngs);
        double ms = (System.nanoTime() - t0) / 1e6 / n;
        int h = zh * model.downsample();
        int w = zw * model.downsample();
        int px = 3 * h * w;
        List<Sampled> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new Sampled(rows.get(i), img, i * px, h, w, ms, null));
        }
        return out;
    }

    /**
     * The Java half: PNG encoding and metrics, each row failing alone. (Running it on a second thread
     * while the next batch samples was measured slower on 2 cores: it takes the cores libtorch uses.)
     */
    private List<DecodedImage> finish(List<Sampled> sampled) {
        List<DecodedImage> out = new ArrayList<>(sampled.size());
        for (Sampled s : sampled) {
            if (s.error() != null) {
                out.add(DecodedImage.failed(s.row().id(), s.error()));
                continue;
            }
            try {
                out.add(finish(s));
            } catch (RuntimeException e) {
                out.add(DecodedImage.failed(s.row().id(), "could not encode or score the decoded image: " + e));
            }
        }
        return out;
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
        return new DecodedImage(r.id(), png, s.width(), s.height(), sampler.forwardPasses(), s.decodeMs(), scores, null);
    }
}
