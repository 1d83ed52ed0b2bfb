package org.mipflow.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** The input and output column contracts of decode (README, "Input contract"). */
public final class DecodeSchemas {
    public static final String ID = "id";
    public static final String LATENT = "latent";
    public static final String C = "latent_c";
    public static final String H = "latent_h";
    public static final String W = "latent_w";
    public static final String REFERENCE = "reference";
    public static final String SOURCE_FILE = "source_file";
    public static final String ERROR = "error";
    /** Input columns that are consumed, not passed through. */
    public static final Set<String> CONSUMED = Set.of(ID, LATENT, C, H, W, REFERENCE, SOURCE_FILE);

    private DecodeSchemas() {}

    /** Checks the required columns; returns a description of every problem, or null. */
    public static String problems(StructType in) {
        List<String> p = new ArrayList<>();
        require(in, ID, DataTypes.StringType, p);
        require(in, LATENT, DataTypes.createArrayType(DataTypes.FloatType), p);
        require(in, C, DataTypes.IntegerType, p);
        require(in, H, DataTypes.IntegerType, p);
        require(in, W, DataTypes.IntegerType, p);
        if (has(in, REFERENCE) && !in.apply(REFERENCE).dataType().equals(DataTypes.BinaryType)) {
            p.add("column reference must be BINARY, is " + in.apply(REFERENCE).dataType().simpleString());
        }
        return p.isEmpty() ? null : String.join("; ", p);
    }

    private static void require(StructType in, String name, DataType type, List<String> p) {
        if (!has(in, name)) {
            p.add("required column '" + name + "' (" + type.simpleString() + ") is missing");
        } else {
            DataType actual = in.apply(name).dataType();
            boolean ok = actual.equals(type)
                    || (type instanceof org.apache.spark.sql.types.ArrayType at && actual instanceof org.apache.spark.sql.types.ArrayType aa
                            && aa.elementType().equals(at.elementType()));
            if (!ok) {
                p.add("column '" + name + "' must be " + type.simpleString() + ", is " + actual.simpleString());
            }
        }
    }

    static boolean has(StructType s, String name) {
        for (String f : s.fieldNames()) {
            if (f.equals(name)) {
                return true;
            }
        }
        return false;
    }

    /** Pass-through columns of the input, in input order. */
    public static List<StructField> passThrough(StructType in) {
        List<StructField> out = new ArrayList<>();
        for (StructField f : in.fields()) {
            if (!CONSUMED.contains(f.name())) {
                out.add(f);
            }
        }
        return out;
    }

    /** Rows the partition function emits: pass-through, image columns, then the error columns. */
    public static StructType combined(StructType in) {
        List<StructField> f = new ArrayList<>(passThrough(in));
        f.add(DataTypes.createStructField(ID, DataTypes.StringType, true));
        f.add(DataTypes.createStructField("image", DataTypes.BinaryType, true));
        f.add(DataTypes.createStructField("width", DataTypes.IntegerType, true));
        f.add(DataTypes.createStructField("height", DataTypes.IntegerType, true));
        f.add(DataTypes.createStructField("mode", DataTypes.StringType, true));
        f.add(DataTypes.createStructField("forward_passes", DataTypes.IntegerType, true));
        f.add(DataTypes.createStructField("decode_ms", DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField("psnr", DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField("ssim", DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField("ms_ssim", DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField("haarpsi", DataTypes.DoubleType, true));
        f.add(DataTypes.createStructField(SOURCE_FILE, DataTypes.StringType, true));
        f.add(DataTypes.createStructField(ERROR, DataTypes.StringType, true));
        return DataTypes.createStructType(f);
    }

    /** The errors output: the row's id (null for a whole unreadable shard), its shard and the reason. */
    public static StructType errors() {
        return DataTypes.createStructType(List.of(
                DataTypes.createStructField(ID, DataTypes.StringType, true),
                DataTypes.createStructField(SOURCE_FILE, DataTypes.StringType, true),
                DataTypes.createStructField(ERROR, DataTypes.StringType, true)));
    }
}
