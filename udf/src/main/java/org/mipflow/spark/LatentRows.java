package org.mipflow.spark;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.LatentRow;
import org.mipflow.io.LatentSpec;
import org.mipflow.io.RowLimits;
import org.mipflow.io.RowRejected;
import org.mipflow.io.RowValidator;

/**
 * Reads one input row of the decode contract into a validated {@link LatentRow}, or says why it
 * cannot be decoded. Shared by the partition function and the driver-side audit.
 */
public final class LatentRows {
    /** The reason a row cannot be decoded. */
    public static final class BadRow extends RowRejected {
        BadRow(String m) {
            super(m);
        }
    }

    private LatentRows() {}

    /** With the default column names. */
    public static LatentRow parse(Row r, RowLimits limits, int channels, int sideMultiple, int downsample)
            throws BadRow {
        return parse(r, LatentColumns.DEFAULT, limits, channels, sideMultiple, downsample);
    }

    /**
     * @param r a row with its schema (as Spark hands them to partition functions and collects)
     * @param channels latent channels the model takes
     * @param sideMultiple the latent side must be a multiple of this
     * @param downsample image side / latent side, for the reference's expected size
     */
    /** For a model whose latent is {@code spec}: a grid as below, or a token sequence. */
    public static LatentRow parse(Row r, LatentColumns cols, RowLimits limits, LatentSpec spec) throws BadRow {
        if (spec instanceof LatentSpec.Grid g) {
            return parse(r, cols, limits, g.channels(), g.sideMultiple(), g.downsample());
        }
        return tokens(r, cols, limits, (LatentSpec.Tokens) spec);
    }

    /**
     * A token latent: T*D values token-major as ARRAY<FLOAT> or BINARY, or T arrays of D as
     * ARRAY<ARRAY<FLOAT>> (what a [T, D] array written by pandas/pyarrow gives). It travels as a
     * LatentRow of 1 x T x D; the reference must have the model's image size.
     */
    static LatentRow tokens(Row r, LatentColumns cols, RowLimits limits, LatentSpec.Tokens spec) throws BadRow {
        String id = r.getAs(cols.id());
        if (id == null || id.isEmpty()) {
            throw new BadRow(id == null ? "id is null" : "id is empty");
        }
        int latentIdx = r.fieldIndex(cols.latent());
        if (r.isNullAt(latentIdx)) {
            throw new BadRow("latent is null");
        }
        Object latent = r.get(latentIdx);
        String expected = "the model takes " + spec.describe() + " (" + (long) spec.tokens() * spec.dim() + " values)";
        float[] z;
        if (latent instanceof byte[] bytes) {
            z = decoded(r, cols, bytes);
        } else {
            if (r.schema().apply(cols.latent()).dataType() instanceof ArrayType a
                    && a.elementType() instanceof ArrayType) {
                z = nested(r.getList(latentIdx), spec, expected);
            } else {
                z = floats(r.getList(latentIdx));
            }
        }
        if (z.length != (long) spec.tokens() * spec.dim()) {
            throw new BadRow("latent has " + z.length + " values; " + expected);
        }
        checkFinite(z);
        float[] ref = reference(r, cols, spec.imageSize(), spec.imageSize(), limits);
        return new LatentRow(id, z, 1, spec.tokens(), spec.dim(), ref);
    }

    /** T rows of D values, token-major; a row of another length (ragged) names the expected shape. */
    private static float[] nested(List<?> outer, LatentSpec.Tokens spec, String expected) throws BadRow {
        if (outer.size() != spec.tokens()) {
            throw new BadRow("latent has " + outer.size() + " tokens; " + expected);
        }
        float[] z = new float[spec.tokens() * spec.dim()];
        for (int t = 0; t < outer.size(); t++) {
            Object row = outer.get(t);
            if (row == null) {
                throw new BadRow("latent token " + t + " is null");
            }
            scala.collection.Seq<?> seq = (scala.collection.Seq<?>) row;
            if (seq.length() != spec.dim()) {
                throw new BadRow("latent token " + t + " has " + seq.length() + " values; " + expected);
            }
            for (int d = 0; d < seq.length(); d++) {
                Object v = seq.apply(d);
                if (v == null) {
                    throw new BadRow("latent token " + t + " value " + d + " is null");
                }
                z[t * spec.dim() + d] = (Float) v;
            }
        }
        return z;
    }

    public static LatentRow parse(Row r, LatentColumns cols, RowLimits limits, int channels, int sideMultiple,
            int downsample) throws BadRow {
        String id = r.getAs(cols.id());
        int latentIdx = r.fieldIndex(cols.latent());
        Object latent = r.isNullAt(latentIdx) ? null : r.get(latentIdx);
        Integer c = r.getAs(cols.channels());
        Integer h = r.getAs(cols.height());
        Integer w = r.getAs(cols.width());
        float[] z = null;
        int length = 0;
        if (latent instanceof byte[] bytes) {
            z = decoded(r, cols, bytes);
            length = z.length;
        } else if (latent != null) {
            length = ((scala.collection.Seq<?>) latent).length();
        }
        String p = RowValidator.problem(id, latent, c, h, w, length, limits, channels, sideMultiple);
        if (p != null) {
            throw new BadRow(p);
        }
        if (z == null) {
            z = floats(r.getList(latentIdx));
        }
        checkFinite(z);
        float[] ref = reference(r, cols, h * downsample, w * downsample, limits);
        return new LatentRow(id, z, c, h, w, ref);
    }

    /** A BINARY latent's values in the row's encoding. */
    private static float[] decoded(Row r, LatentColumns cols, byte[] bytes) throws BadRow {
        try {
            return encoding(r, cols).decode(bytes);
        } catch (IllegalArgumentException e) {
            throw new BadRow(e.getMessage());
        }
    }

    private static void checkFinite(float[] z) throws BadRow {
        String nf = RowValidator.nonFinite(z);
        if (nf != null) {
            throw new BadRow(nf);
        }
    }

    /** The row's reference image as planar floats at h x w, or null when it has none. */
    private static float[] reference(Row r, LatentColumns cols, int h, int w, RowLimits limits) throws BadRow {
        if (!DecodeSchemas.has(r.schema(), cols.reference()) || r.isNullAt(r.fieldIndex(cols.reference()))) {
            return null;
        }
        try {
            return RowValidator.reference(r.getAs(cols.reference()), h, w, limits);
        } catch (IllegalArgumentException e) {
            throw new BadRow(e.getMessage());
        }
    }

    private static LatentEncoding encoding(Row r, LatentColumns cols) throws BadRow {
        if (DecodeSchemas.has(r.schema(), cols.dtype()) && !r.isNullAt(r.fieldIndex(cols.dtype()))) {
            try {
                return LatentEncoding.parse(r.getAs(cols.dtype()));
            } catch (IllegalArgumentException e) {
                throw new BadRow(e.getMessage() + " (column " + cols.dtype() + ")");
            }
        }
        if (cols.defaultEncoding() == null) {
            throw new BadRow("latent is binary but " + cols.dtype() + " is null and no default latent dtype is set");
        }
        return cols.defaultEncoding();
    }

    private static float[] floats(List<Float> latent) throws BadRow {
        float[] z = new float[latent.size()];
        for (int i = 0; i < z.length; i++) {
            Float v = latent.get(i);
            if (v == null) {
                throw new BadRow("latent value " + i + " is null");
            }
            z[i] = v;
        }
        return z;
    }
}
