package org.mipflow.jobs.encode;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.mipflow.io.LatentEncoding;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.ErrorReasons;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.DecodeSettings;
import org.mipflow.spark.EncodePartition;

/**
 * The encode job: images (files, or Parquet with id + image) to a latents Parquet. Every file given
 * is accounted for ({@link EncodeInputs}): encoded, or in OUT/_errors with the reason (unreadable,
 * truncated, an unusable Parquet file), or listed as not an image.
 */
public final class EncodeJob {
    /**
     * What a run did.
     *
     * @param errors rows and files in OUT/_errors
     * @param upscaled how many encoded images had a shorter side than the target size
     * @param upscaledExamples some of them, "id (WxH)"
     */
    public record Result(long encoded, long errors, EncodeInputs inputs, ErrorReasons reasons, long upscaled,
            List<String> upscaledExamples) {}

    static final int EXAMPLES = 10;

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
            EncodeInputs found = EncodeInputs.list(spark, inputs);
            guard.planIsValid();
            return write(spark, found, out, settings, size, partitions, encoding);
        }
    }

    private static Result write(SparkSession spark, EncodeInputs found, String out, DecodeSettings settings, int size,
            int partitions, LatentEncoding encoding) {
        Dataset<Row> images = readImages(spark, found);
        if (partitions > 0) {
            images = images.repartition(partitions);
        }
        spark.sparkContext().setJobDescription("mipflow encode");
        Dataset<Row> result = images.select(col(DecodeSchemas.ID), col("image"))
                .mapPartitions(new EncodePartition(settings, size), Encoders.row(EncodePartition.OUTPUT))
                .persist(StorageLevel.MEMORY_AND_DISK());
        try {
            Dataset<Row> ok = result.filter(col("error").isNull()).drop("error", EncodePartition.SOURCE_SIZE);
            if (encoding != null) {
                ok = ok.withColumn(DecodeSchemas.LATENT, asBytes(encoding).apply(col(DecodeSchemas.LATENT)))
                        .withColumn(DecodeSchemas.DTYPE, lit(encoding.label()));
            }
            ok.write().mode(SaveMode.Append).parquet(out);
            // as decode's errors: id, source_file, error; an unusable Parquet file is a row without an id
            Dataset<Row> bad = result.filter(col("error").isNotNull()).select(DecodeSchemas.ID, "error")
                    .join(images.select(DecodeSchemas.ID, DecodeSchemas.SOURCE_FILE), scala.jdk.javaapi.CollectionConverters
                            .asScala(List.of(DecodeSchemas.ID)).toSeq(), "left")
                    .select(DecodeSchemas.ID, DecodeSchemas.SOURCE_FILE, DecodeSchemas.ERROR)
                    .union(badFiles(spark, found));
            long errors = bad.count();
            ErrorReasons reasons = ErrorReasons.NONE;
            if (errors > 0) {
                bad.coalesce(1).write().mode(SaveMode.Append).parquet(out + "/_errors");
                reasons = ErrorReasons.of(bad);
            }
            Dataset<Row> small = result.filter(col("error").isNull()).filter(expr(
                    "least(cast(split(source_size, 'x')[0] as int), cast(split(source_size, 'x')[1] as int)) < " + size));
            long upscaled = small.count();
            List<String> examples = new ArrayList<>();
            for (Row r : small.select(DecodeSchemas.ID, EncodePartition.SOURCE_SIZE).orderBy(DecodeSchemas.ID)
                    .limit(EXAMPLES).collectAsList()) {
                examples.add(r.getString(0) + " (" + r.getString(1) + ")");
            }
            return new Result(result.filter(col("error").isNull()).count(), errors, found, reasons, upscaled,
                    List.copyOf(examples));
        } finally {
            result.unpersist();
        }
    }

    private static Dataset<Row> badFiles(SparkSession spark, EncodeInputs found) {
        List<Row> rows = new ArrayList<>();
        found.badParquet().forEach((f, why) -> rows.add(RowFactory.create(null, f, "bad file: " + why)));
        return spark.createDataFrame(rows, DecodeSchemas.errors());
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

    /** (id, image, source_file) rows: the image files under their ids, and the usable Parquet files' rows. */
    static Dataset<Row> readImages(SparkSession spark, EncodeInputs found) {
        StructType schema = DataTypes.createStructType(List.of(
                DataTypes.createStructField(DecodeSchemas.ID, DataTypes.StringType, false),
                DataTypes.createStructField("image", DataTypes.BinaryType, true),
                DataTypes.createStructField(DecodeSchemas.SOURCE_FILE, DataTypes.StringType, true)));
        Dataset<Row> all = spark.createDataFrame(List.of(), schema);
        if (!found.images().isEmpty()) {
            List<Row> ids = new ArrayList<>();
            found.images().forEach((path, id) -> ids.add(RowFactory.create(path, id)));
            Dataset<Row> byPath = spark.createDataFrame(ids, DataTypes.createStructType(List.of(
                    DataTypes.createStructField("path", DataTypes.StringType, false),
                    DataTypes.createStructField(DecodeSchemas.ID, DataTypes.StringType, false))));
            Dataset<Row> files = spark.read().format("binaryFile").load(found.images().keySet().toArray(String[]::new));
            all = all.union(files.join(byPath, "path").select(col(DecodeSchemas.ID), col("content").as("image"),
                    col("path").as(DecodeSchemas.SOURCE_FILE)));
        }
        if (!found.parquet().isEmpty()) {
            all = all.union(spark.read().parquet(found.parquet().toArray(String[]::new)).select(
                    col("id").cast("string"), col("image"), input_file_name().as(DecodeSchemas.SOURCE_FILE)));
        }
        return all;
    }
}
