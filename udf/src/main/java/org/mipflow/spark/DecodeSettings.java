package org.mipflow.spark;

import java.io.Serializable;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.NumericPath;
import org.mipflow.recipe.Recipe;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.SamplerConfig;

/**
 * Everything an executor needs to decode, shipped with the partition function (the model itself
 * never is: executors load it once per JVM through {@link ModelCache}).
 *
 * @param modelDir local path of the model directory on every executor
 * @param batching rows per task batch, rows per network call and the memory budget ({@link Batching})
 * @param intraOpThreads libtorch threads per JVM; times concurrent tasks it should equal the cores
 * @param engineCacheDir where DJL extracts libtorch, or null for its default
 * @param pngDir a Hadoop URI to also write one PNG per image to, or null
 * @param metrics what to score each image with when it has a reference
 * @param numerics precision and layout asked for; "auto" is decided per executor from its device
 * @param features the feature network for rFID and KID, or null for none
 * @param recipe what the run's images are made with, every "auto" resolved on the driver
 *     ({@link Recipe#resolve}); null only where one JVM decodes alone and resolves for itself
 */
public record DecodeSettings(
        String modelDir,
        SamplerConfig sampler,
        Batching batching,
        long seed,
        int intraOpThreads,
        String engineCacheDir,
        RowLimits limits,
        String pngDir,
        MetricSet metrics,
        NumericPath.Request numerics,
        FeatureSettings features,
        Recipe recipe)
        implements Serializable {

    public DecodeSettings(String modelDir, SamplerConfig sampler, Batching batching, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir, MetricSet metrics, NumericPath.Request numerics,
            FeatureSettings features) {
        this(modelDir, sampler, batching, seed, intraOpThreads, engineCacheDir, limits, pngDir, metrics, numerics,
                features, null);
    }

    public DecodeSettings(String modelDir, SamplerConfig sampler, Batching batching, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir, MetricSet metrics, NumericPath.Request numerics) {
        this(modelDir, sampler, batching, seed, intraOpThreads, engineCacheDir, limits, pngDir, metrics, numerics, null);
    }

    /** Rows per task batch {@code taskRows} (0: auto), everything else automatic. */
    public DecodeSettings(String modelDir, SamplerConfig sampler, int taskRows, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir, MetricSet metrics) {
        this(modelDir, sampler, Batching.AUTO.withTaskRows(taskRows), seed, intraOpThreads, engineCacheDir, limits,
                pngDir, metrics, NumericPath.Request.AUTO);
    }

    /** With the default metrics, PSNR and SSIM. */
    public DecodeSettings(String modelDir, SamplerConfig sampler, int taskRows, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir) {
        this(modelDir, sampler, taskRows, seed, intraOpThreads, engineCacheDir, limits, pngDir, MetricSet.DEFAULT);
    }

    public DecodeSettings withIntraOpThreads(int threads) {
        return new DecodeSettings(modelDir, sampler, batching, seed, threads, engineCacheDir, limits, pngDir, metrics,
                numerics, features, recipe);
    }

    public DecodeSettings withFeatures(FeatureSettings f) {
        return new DecodeSettings(modelDir, sampler, batching, seed, intraOpThreads, engineCacheDir, limits, pngDir,
                metrics, numerics, f, recipe);
    }

    /** The same, decoded with {@code r}: what every executor computes with. */
    public DecodeSettings withRecipe(Recipe r) {
        return new DecodeSettings(modelDir, sampler, batching, seed, intraOpThreads, engineCacheDir, limits, pngDir,
                metrics, numerics, features, r);
    }

    /** The numerics a model is loaded in: the recipe's, resolved once; without one, the request. */
    public NumericPath.Request loadNumerics() {
        return recipe == null ? numerics : recipe.numericsRequest();
    }
}
