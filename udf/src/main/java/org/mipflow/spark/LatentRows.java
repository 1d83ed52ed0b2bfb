package org.mipflow.spark;

import java.util.List;
import org.apache.spark.sql.Row;
import org.mipflow.io.LatentRow;
import org.mipflow.io.RowLimits;
import org.mipflow.io.RowValidator;

/**
 * Reads one input row of the decode contract into a validated {@link LatentRow}, or says why it
 * cannot be decoded. Shared by the partition function and the driver-side audit.
 */
public final class LatentRows {
    /** The reason a row cannot be decoded. */
    public static final class BadRow extends Exception {
        BadRow(String m) {
            super(m);
        }
    }

    private LatentRows() {}

    /**
     * @param r a row with its schema (as Spark hands them to partition functions and collects)
     * @param channels latent channels the model takes
     * @param sideMultiple the latent side must be a multiple of this
     * @param downsample image side / latent side, for the reference's expected size
     */
    public static LatentRow parse(Row r, RowLimits limits, int channels, int sideMultiple, int downsample)
            throws BadRow {
        String id = r.getAs(DecodeSchemas.ID);
        int latentIdx = r.fieldIndex(DecodeSchemas.LATENT);
        List<Float> latent = r.isNullAt(latentIdx) ? null : r.getList(latentIdx);
        Integer c = r.getAs(DecodeSchemas.C);
        Integer h = r.getAs(DecodeSchemas.H);
        Integer w = r.getAs(DecodeSchemas.W);
        String p = RowValidator.problem(id, latent, c, h, w, latent == null ? 0 : latent.size(), limits, channels,
                sideMultiple);
        if (p != null) {
            throw new BadRow(p);
        }
        float[] z = new float[latent.size()];
        for (int i = 0; i < z.length; i++) {
            Float v = latent.get(i);
            if (v == null) {
                throw new BadRow("latent value " + i + " is null");
            }
            z[i] = v;
        }
        String nf = RowValidator.nonFinite(z);
        if (nf != null) {
            throw new BadRow(nf);
        }
        float[] ref = null;
        if (DecodeSchemas.has(r.schema(), DecodeSchemas.REFERENCE) && !r.isNullAt(r.fieldIndex(DecodeSchemas.REFERENCE))) {
            try {
                ref = RowValidator.reference(r.getAs(DecodeSchemas.REFERENCE), h * downsample, w * downsample, limits);
            } catch (IllegalArgumentException e) {
                throw new BadRow(e.getMessage());
            }
        }
        return new LatentRow(id, z, c, h, w, ref);
    }
}
