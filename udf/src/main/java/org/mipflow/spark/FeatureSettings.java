package org.mipflow.spark;

import java.io.Serializable;
import java.nio.file.Path;
import org.mipflow.metrics.FeatureStats;
import org.mipflow.model.FeatureNet;

/**
 * rFID and KID for a decode ({@code --features DIR}): the feature network every executor loads
 * (same local path everywhere, as the model) and the size of the KID sample.
 *
 * @param dim the network's feature dimension, from its model.json
 * @param sha256 its module's SHA-256, recorded with the figures
 * @param kidSample rows kept for KID (a bottom-k sample by hash(seed, id))
 */
public record FeatureSettings(String dir, int dim, String sha256, int kidSample) implements Serializable {
    public static final int DEFAULT_KID_SAMPLE = 2000;

    /** Reads (and checksums) the network's model.json on the driver, before any task starts. */
    public static FeatureSettings of(Path dir, int kidSample) {
        FeatureNet.Manifest m = FeatureNet.Manifest.read(dir);
        return new FeatureSettings(dir.toAbsolutePath().toString(), m.featureDim(), m.sha256(), kidSample);
    }

    /** Empty statistics of this kind, for {@code seed}'s sample. */
    public FeatureStats emptyStats(long seed) {
        return new FeatureStats(dim, kidSample, seed);
    }
}
