package org.mipflow.spark;

import java.io.Serializable;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.MetricSet;
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
        MetricSet metrics)
        implements Serializable {

    /** With the default metrics, PSNR and SSIM. */
    public DecodeSettings(String modelDir, SamplerConfig sampler, int batchSize, long seed, int intraOpThreads,
            String engineCacheDir, RowLimits limits, String pngDir) {
        this(modelDir, sampler, batchSize, seed, intraOpThreads, engineCacheDir, limits, pngDir, MetricSet.DEFAULT);
    }
}
