package org.mipflow.spark;

import java.io.Serializable;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.BatchBudget;
import org.mipflow.model.DecoderModel;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.SamplerConfig;

/**
 * Everything an executor needs to decode, shipped with the partition function (the model itself
 * never is: executors load it once per JVM through {@link ModelCache}).
 *
 * @param modelDir local path of the model directory on every executor
 * @param intraOpThreads libtorch threads per JVM; times concurrent tasks it should equal the cores
 * @param engineCacheDir where DJL extracts libtorch, or null for its default
 * @param pngDir a Hadoop URI to also write one PNG per image to, or null
 * @param metrics what to score each image with when it has a reference
 * @param numerics precision and layout asked for; "auto" is decided per executor from its device
 * @param budget sizes batches when {@code batchSize} is 0 (from each batch's image size)
 * @param features the feature network for rFID and KID, or null for none
 */
public record DecodeSettings(
        String modelDir,
        SamplerConfig sampler,
        int batchSize,
        long seed,
        int intraOpThreads,
        String engineCacheDir,
        RowLimits limits,
        String pngDir,
        MetricSet metrics,
        NumericPath.Request numerics,
        BatchBudget budget,
        FeatureSettings features)
        implements Serializable {

    public DecodeSettings(String modelDir, SamplerConfig sampler, int batchSize, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir, MetricSet metrics, NumericPath.Request numerics,
            BatchBudget budget) {
        this(modelDir, sampler, batchSize, seed, intraOpThreads, engineCacheDir, limits, pngDir, metrics, numerics,
                budget, null);
    }

    public DecodeSettings(String modelDir, SamplerConfig sampler, int batchSize, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir, MetricSet metrics) {
        this(modelDir, sampler, batchSize, seed, intraOpThreads, engineCacheDir, limits, pngDir, metrics,
                NumericPath.Request.AUTO, BatchBudget.cpuDefault());
    }

    /** With the default metrics, PSNR and SSIM. */
    public DecodeSettings(String modelDir, SamplerConfig sampler, int batchSize, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir) {
        this(modelDir, sampler, batchSize, seed, intraOpThreads, engineCacheDir, limits, pngDir, MetricSet.DEFAULT);
    }

    public DecodeSettings withIntraOpThreads(int threads) {
        return new DecodeSettings(modelDir, sampler, batchSize, seed, threads, engineCacheDir, limits, pngDir, metrics,
                numerics, budget, features);
    }

    public DecodeSettings withFeatures(FeatureSettings f) {
        return new DecodeSettings(modelDir, sampler, batchSize, seed, intraOpThreads, engineCacheDir, limits, pngDir,
                metrics, numerics, budget, f);
    }

    /** The fixed batch size, or the budget's choice for images of h x w in {@code model}. */
    public int batchFor(DecoderModel model, int h, int w) {
        return budget.batchFor(batchSize, model.bytesPerImage(h, w));
    }
}
