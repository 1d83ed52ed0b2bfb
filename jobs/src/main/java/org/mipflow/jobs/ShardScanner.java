package org.mipflow.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.mipflow.spark.DecodeSchemas;

/**
 * Checks every input shard on the driver before any decoding: a shard that is not Parquet, is
 * truncated, or lacks the contract's columns is set aside with its reason, so that one bad file
 * cannot fail a night-long job and is still accounted for.
 */
final class ShardScanner {
    /** Good shards, and bad shards with the reason. */
    record Scan(List<String> good, Map<String, String> bad) {}

    private ShardScanner() {}

    static Scan scan(SparkSession spark, List<String> inputs) throws UsageException {
        List<String> files = new ArrayList<>();
        for (String in : inputs) {
            files.addAll(dataFiles(spark, in));
        }
        if (files.isEmpty()) {
            throw new UsageException("no data files under " + inputs);
        }
        List<String> good = new ArrayList<>();
        Map<String, String> bad = new LinkedHashMap<>();
        for (String f : files) {
            String reason = problem(spark, f);
            if (reason == null) {
                good.add(f);
            } else {
                bad.put(f, reason);
            }
        }
        if (good.isEmpty()) {
            throw new UsageException("no usable input shard; first problem: " + bad.keySet().iterator().next() + ": "
                    + bad.values().iterator().next());
        }
        return new Scan(good, bad);
    }

    private static String problem(SparkSession spark, String file) {
        StructType schema;
        // Read the footer directly first: a broken file then never reaches a Spark task, whose
        // failure would be logged with stack traces.
        try (ParquetFileReader r = ParquetFileReader.open(
                HadoopInputFile.fromPath(new Path(file), spark.sparkContext().hadoopConfiguration()))) {
            r.getFooter();
        } catch (Exception e) {
            return "not a readable Parquet file (truncated or another format): " + DecodeJob.firstLine(e);
        }
        try {
            schema = spark.read().parquet(file).schema();
        } catch (Exception e) {
            return "not a readable Parquet file (truncated or another format): " + DecodeJob.firstLine(e);
        }
        String p = DecodeSchemas.problems(schema);
        return p == null ? null : "does not follow the input contract: " + p;
    }

    /** A file, or the non-hidden files under a directory (recursively), as Spark would read them. */
    private static List<String> dataFiles(SparkSession spark, String in) throws UsageException {
        List<String> out = new ArrayList<>();
        try {
            Path p = new Path(in);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            collect(fs, fs.getFileStatus(p), out);
        } catch (IOException e) {
            throw new UsageException("cannot list input " + in + ": " + e.getMessage());
        }
        return out;
    }

    private static void collect(FileSystem fs, FileStatus st, List<String> out) throws IOException {
        String name = st.getPath().getName();
        if (name.startsWith("_") || name.startsWith(".")) {
            return;
        }
        if (st.isDirectory()) {
            for (FileStatus c : fs.listStatus(st.getPath())) {
                collect(fs, c, out);
            }
        } else {
            out.add(st.getPath().toString());
        }
    }
}
