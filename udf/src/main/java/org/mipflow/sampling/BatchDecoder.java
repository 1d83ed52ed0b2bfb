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
 * Decodes validated rows of one latent shape as one batch: sampling, PNG encoding and metrics
 * against the (already validated) reference. A failure of the batch is retried row by row so that one bad row
 * cannot take its neighbours into the errors output.
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

    public List<DecodedImage> decode(List<LatentRow> rows) {
        if (rows.isEmpty()) {
            return List.of();
        }
        try {
            return decodeBatch(rows);
        } catch (RuntimeException e) {
            if (rows.size() == 1) {
                return List.of(DecodedImage.failed(rows.get(0).id(), "decoder failed: " + e));
            }
            List<DecodedImage> out = new ArrayList<>();
            for (LatentRow r : rows) {
                out.addAll(decode(List.of(r)));
            }
            return out;
        }
    }

    private List<DecodedImage> decodeBatch(List<LatentRow> rows) {
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
        List<DecodedImage> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            LatentRow r = rows.get(i);
            for (int j = i * px; j < (i + 1) * px; j++) {
                if (!Float.isFinite(img[j])) {
                    throw new IllegalStateException("decoder produced a non-finite value for row " + r.id());
                }
            }
            byte[] png = ImageCodec.png(ImageOps.fromPlanar(img, i * px, h, w));
            Map<String, Double> scores =
                    r.reference() == null ? Map.of() : metrics.score(img, i * px, r.reference(), h, w);
            out.add(new DecodedImage(r.id(), png, w, h, sampler.forwardPasses(), ms, scores, null));
        }
        return out;
    }
}
