package org.mipflow.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.mipflow.metrics.Metric;

/**
 * The column contracts of decoding (docs/decode.md, "Input contract" and "Output contract"), defined once:
 * the input check, the columns every decoded row gains, and the decode command's two outputs.
 */
public final class DecodeSchemas {
    public static final String ID = "id";
    public static final String LATENT = "latent";
    public static final String C = "latent_c";
    public static final String H = "latent_h";
    public static final String W = "latent_w";
    public static final String REFERENCE = "reference";
    public static final String DTYPE = "latent_dtype";
    public static final String SOURCE_FILE = "source_file";
    public static final String ERROR = "error";
    /**
     * Optional input column set by the decode command (duplicate ids): a row with a non-null
     * value goes to errors with it as the reason, undecoded.
     */
    public static final String REJECT = "_mipflow_reject";

    /**
     * With a feature network (rFID, KID), three more columns: the decoded image's and the
     * reference's features, or why there are none. The decode command aggregates them and does
     * not write them out.
     */
    public static final String FEATURES = "features";
    public static final String REFERENCE_FEATURES = "reference_features";
    public static final String FEATURE_ERROR = "feature_error";

    /** The columns decoding appends to every row, in order, with their types. */
    public static final Map<String, DataType> OUTPUT = outputs();

    /** Input columns the decode command does not copy into images/. */
    public static final Set<String> CONSUMED = Set.of(ID, LATENT, C, H, W, REFERENCE, DTYPE, SOURCE_FILE, REJECT);

    private DecodeSchemas() {}

    private static Map<String, DataType> outputs() {
        Map<String, DataType> m = new LinkedHashMap<>();
        m.put("image", DataTypes.BinaryType);
        m.put("width", DataTypes.IntegerType);
        m.put("height", DataTypes.IntegerType);
        m.put("mode", DataTypes.StringType);
        m.put("forward_passes", DataTypes.IntegerType);
        m.put("decode_ms", DataTypes.DoubleType);
        for (Metric metric : Metric.values()) {
            m.put(metric.column(), DataTypes.DoubleType);
        }
        m.put(ERROR, DataTypes.StringType);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** Checks the required columns of the default names; every problem, or null. */
    public static String problems(StructType in) {
        return problems(in, LatentColumns.DEFAULT);
    }

    /** Checks the required columns; returns a description of every problem, or null. */
    public static String problems(StructType in, LatentColumns cols) {
        List<String> p = new ArrayList<>();
        require(in, cols.id(), DataTypes.StringType, p);
        if (!has(in, cols.latent())) {
            p.add("required column '" + cols.latent() + "' (array<float> or binary) is missing");
        } else {
            DataType t = in.apply(cols.latent()).dataType();
            boolean array = t instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType);
            boolean nested = t instanceof ArrayType a && a.elementType() instanceof ArrayType b
                    && b.elementType().equals(DataTypes.FloatType);
            boolean binary = t.equals(DataTypes.BinaryType);
            if (cols.tokens() ? !array && !nested && !binary : !array && !binary) {
                p.add("column '" + cols.latent() + "' must be array<float>" + (cols.tokens() ? ", array<array<float>>" : "")
                        + " or binary, is " + t.simpleString());
            }
            if (binary && !has(in, cols.dtype()) && cols.defaultEncoding() == null) {
                p.add("column '" + cols.latent() + "' is binary, so its values' encoding must be given: a '"
                        + cols.dtype() + "' column (float16, bfloat16 or float32) or a default latent dtype");
            }
        }
        if (!cols.tokens()) { // a token latent's shape is the model's
            require(in, cols.channels(), DataTypes.IntegerType, p);
            require(in, cols.height(), DataTypes.IntegerType, p);
            require(in, cols.width(), DataTypes.IntegerType, p);
        }
        optional(in, cols.reference(), DataTypes.BinaryType, p);
        optional(in, cols.dtype(), DataTypes.StringType, p);
        return p.isEmpty() ? null : String.join("; ", p);
    }

    private static void require(StructType in, String name, DataType type, List<String> p) {
        if (!has(in, name)) {
            p.add("required column '" + name + "' (" + type.simpleString() + ") is missing");
        } else {
            optional(in, name, type, p);
        }
    }

    private static void optional(StructType in, String name, DataType type, List<String> p) {
        if (has(in, name) && !in.apply(name).dataType().equals(type)) {
            p.add("column '" + name + "' must be " + type.simpleString() + ", is "
                    + in.apply(name).dataType().simpleString());
        }
    }

    static boolean has(StructType s, String name) {
        // A name lookup, no copy of the field names: this runs for every row.
        return name != null && s.getFieldIndex(name).isDefined();
    }

    /** The input's columns followed by {@link #OUTPUT}: what decoding a DataFrame gives. */
    public static StructType decoded(StructType in) {
        return decoded(in, false);
    }

    /** The same, with the feature columns at the end when {@code features}. */
    public static StructType decoded(StructType in, boolean features) {
        List<StructField> f = new ArrayList<>(List.of(in.fields()));
        OUTPUT.forEach((name, type) -> f.add(DataTypes.createStructField(name, type, true)));
        if (features) {
            DataType vector = DataTypes.createArrayType(DataTypes.FloatType, false);
            f.add(DataTypes.createStructField(FEATURES, vector, true));
            f.add(DataTypes.createStructField(REFERENCE_FEATURES, vector, true));
            f.add(DataTypes.createStructField(FEATURE_ERROR, DataTypes.StringType, true));
        }
        return DataTypes.createStructType(f);
    }

    /** Output names that the input already uses (decoding would shadow them). */
    public static List<String> clashes(StructType in) {
        return OUTPUT.keySet().stream().filter(n -> has(in, n)).toList();
    }

    /** Columns of the decode command's images/: pass-through, id, then the outputs but error. */
    public static List<String> imageColumns(StructType in) {
        List<String> c = new ArrayList<>();
        for (StructField f : in.fields()) {
            if (!CONSUMED.contains(f.name())) {
                c.add(f.name());
            }
        }
        c.add(ID);
        OUTPUT.keySet().stream().filter(n -> !n.equals(ERROR)).forEach(c::add);
        return c;
    }

    /** The errors output: the row's id (null for a whole unreadable shard), its shard and the reason. */
    public static StructType errors() {
        return DataTypes.createStructType(List.of(
                DataTypes.createStructField(ID, DataTypes.StringType, true),
                DataTypes.createStructField(SOURCE_FILE, DataTypes.StringType, true),
                DataTypes.createStructField(ERROR, DataTypes.StringType, true)));
    }
}
