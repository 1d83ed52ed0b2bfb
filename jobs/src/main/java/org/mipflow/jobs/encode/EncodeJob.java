package org.mipflow.jobs.encode;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.apache.spark.sql.functions.udf;

import java.io.IOException;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.mipflow.io.LatentEncoding;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.EncodePartition;

/** The encode job: images (a directory, or Parquet with id + image) to a latents Parquet. */
public final class EncodeJob {
    public record Result(long encoded, long errors) {}

    /** What an encode writes under its output: Spark's part files and markers, and _errors/. */
    static final OutputDir.Layout LAYOUT = OutputDir.Layout.of("part-.*|_SUCCESS|_errors|_temporary",
            "part-*.parquet, _SUCCESS, _errors/");

    private EncodeJob() {}

    public static Result run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings, int size,
            int partitions) throws UsageException, IOException {
        return run(spark, inputs, out, settings, size, partitions, null);
    }

    /**
     * @param encoding write each latent as BINARY in this encoding, with a {@code latent_dtype}
     *     column naming it; null keeps ARRAY&lt;FLOAT&gt;
     */
    public static Result run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings, int size,
            int partitions, LatentEncoding encoding) throws UsageException, IOException {
        return run(spark, inputs, out, settings, size, partitions, encoding, WritePolicy.FRESH);
    }

    /**
     * Under the output rules of {@link OutputGuard}; the files are appended to a directory that
     * holds none of an earlier run's (Spark's Overwrite would delete the whole directory, the
     * lease and anyone's files with it).
     */
    public static Result run(SparkSession spark, List<String> inputs, String out, DecodeSettings settings, int size,
            int partitions, LatentEncoding encoding, WritePolicy policy) throws UsageException, IOException {
        try (OutputGuard guard = OutputGuard.open("encode", out, inputs, policy, LAYOUT,
                spark.sparkContext().hadoopConfiguration())) {
            Dataset<Row> images = readImages(spark, inputs);
            guard.planIsValid();
            return write(spark, images, out, settings, size, partitions, encoding);
        }
    }

    private static Result write(SparkSession spark, Dataset<Row> images, String out, DecodeSettings settings, int size,
            int partitions, LatentEncoding encoding) {
        if (partitions > 0) {
            images = images.repartition(partitions);
        }
        spark.sparkContext().setJobDescription("mipflow encode");
        Dataset<Row> result = images.mapPartitions(new EncodePartition(settings, size), Encoders.row(EncodePartition.OUTPUT))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Dataset<Row> ok = result.filter(col("error").isNull()).drop("error");
            if (encoding != null) {
                ok = ok.withColumn(DecodeSchemas.LATENT, asBytes(encoding).apply(col(DecodeSchemas.LATENT)))
                        .withColumn(DecodeSchemas.DTYPE, lit(encoding.label()));
            }
            ok.write().mode(SaveMode.Append).parquet(out);
            Dataset<Row> bad = result.filter(col("error").isNotNull()).select("id", "error");
            long errors = bad.count();
            if (errors > 0) {
                bad.write().mode(SaveMode.Append).parquet(out + "/_errors");
                for (Row r : bad.limit(20).collectAsList()) {
                    System.out.println("encode error: " + r.getString(0) + ": " + r.getString(1));
                }
            }
            return new Result(ok.count(), errors);
        } finally {
            result.unpersist();
        }
    }

    /** ARRAY&lt;FLOAT&gt; to the little-endian bytes of {@code e}. */
    private static UserDefinedFunction asBytes(LatentEncoding e) {
        return udf((UDF1<scala.collection.Seq<Object>, byte[]>) seq -> {
            float[] f = new float[seq.length()];
            for (int i = 0; i < f.length; i++) {
                f[i] = ((Number) seq.apply(i)).floatValue();
            }
            return e.encode(f);
        }, DataTypes.BinaryType);
    }

    /** (id, bytes) rows from a directory of PNG/JPEG files or a Parquet with id and image columns. */
    static Dataset<Row> readImages(SparkSession spark, List<String> inputs) throws UsageException {
        boolean parquet = inputs.stream().allMatch(p -> p.endsWith(".parquet") || isParquetDir(spark, p));
        if (parquet) {
            Dataset<Row> df = spark.read().parquet(inputs.toArray(String[]::new));
            var s = df.schema();
            if (!List.of(s.fieldNames()).contains("id") || !List.of(s.fieldNames()).contains("image")) {
                throw new UsageException("Parquet input for encode needs columns id (STRING) and image (BINARY)");
            }
            if (!s.apply("image").dataType().equals(DataTypes.BinaryType)) {
                throw new UsageException("column image must be BINARY");
            }
            return df.select(col("id").cast("string"), col("image"));
        }
        Dataset<Row> files = spark.read().format("binaryFile")
                .option("recursiveFileLookup", "true")
                .option("pathGlobFilter", "*.{png,PNG,jpg,JPG,jpeg,JPEG}")
                .load(inputs.toArray(String[]::new));
        return files.select(regexp_extract(col("path"), "([^/]+)\\.[A-Za-z]+$", 1).as("id"), col("content").as("image"));
    }

    private static boolean isParquetDir(SparkSession spark, String p) {
        try {
            org.apache.hadoop.fs.Path path = new org.apache.hadoop.fs.Path(p);
            var fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            if (!fs.getFileStatus(path).isDirectory()) {
                return false;
            }
            for (var st : fs.listStatus(path)) {
                if (st.getPath().getName().endsWith(".parquet")) {
                    return true;
                }
            }
            return false;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
