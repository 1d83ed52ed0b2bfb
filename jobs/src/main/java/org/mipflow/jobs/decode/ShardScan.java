package org.mipflow.jobs.decode;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.StructType;
import org.mipflow.jobs.UsageException;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.HadoopConf;
import org.mipflow.spark.LatentColumns;

/**
 * Finds the input shards and checks each one's footer and columns before any decoding, so that
 * one bad file cannot fail a night-long job and is still accounted for. Listing is one recursive
 * listing per input (paged by the file system, in parallel across inputs); footers are read by
 * Spark tasks, many per task, never one after another on the driver. The driver keeps one small
 * record per shard and nothing per row.
 */
public final class ShardScan {
    /**
     * A shard the footer check passed, with its row count and Spark schema (as JSON; shards of one
     * data set share the same string instance) from the footer.
     */
    public record Shard(String path, long rows, String schema) implements Serializable {}

    /** Good shards in listing order, and bad shards with the reason. */
    public record Result(List<Shard> good, Map<String, String> bad) {
        public long rows() {
            return good.stream().mapToLong(Shard::rows).sum();
        }
    }

    /** What a task found in one file: rows, or the reason it cannot be decoded. */
    private record Checked(String path, long rows, String schema, String problem) implements Serializable {}

    private ShardScan() {}

    public static Result scan(SparkSession spark, List<String> inputs, LatentColumns cols) throws UsageException {
        List<String> files = list(spark, inputs);
        if (files.isEmpty()) {
            throw new UsageException("no data files under " + inputs);
        }
        spark.sparkContext().setJobDescription("mipflow scan " + files.size() + " shard footers");
        int slices = (int) Math.max(1, Math.min(files.size(), Math.max(4L * spark.sparkContext().defaultParallelism(),
                files.size() / 2000)));
        List<Checked> checked = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(files, slices)
                .mapPartitions((Iterator<String> it) -> {
                    Configuration conf = HadoopConf.current();
                    List<Checked> out = new ArrayList<>();
                    while (it.hasNext()) {
                        out.add(check(it.next(), conf, cols));
                    }
                    return out.iterator();
                })
                .collect();
        spark.sparkContext().setJobDescription(null);
        List<Shard> good = new ArrayList<>();
        Map<String, String> bad = new LinkedHashMap<>();
        Map<String, String> schemas = new java.util.HashMap<>();
        for (Checked c : checked) {
            if (c.problem() == null) {
                good.add(new Shard(c.path(), c.rows(), schemas.computeIfAbsent(c.schema(), s -> s)));
            } else {
                bad.put(c.path(), c.problem());
            }
        }
        if (good.isEmpty()) {
            var first = bad.entrySet().iterator().next();
            throw new UsageException("no usable input shard; first problem: " + first.getKey() + ": " + first.getValue());
        }
        return new Result(good, bad);
    }

    /** Reads one footer: its row count, or why the file is not a shard of the contract. */
    private static Checked check(String file, Configuration conf, LatentColumns cols) {
        StructType schema;
        long rows;
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(file), conf))) {
            rows = r.getRecordCount();
            schema = new ParquetToSparkSchemaConverter(SQLConf.get()).convert(r.getFooter().getFileMetaData().getSchema());
        } catch (Exception e) {
            return new Checked(file, 0, null,
                    "not a readable Parquet file (truncated or another format): " + firstLine(e));
        }
        String p = DecodeSchemas.problems(schema, cols);
        return new Checked(file, rows, schema.json(), p == null ? null : "does not follow the input contract: " + p);
    }

    /** Every input's data files, as Spark would read them (hidden and underscore names skipped). */
    static List<String> list(SparkSession spark, List<String> inputs) throws UsageException {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(8, inputs.size()));
        try {
            List<Future<List<String>>> parts = new ArrayList<>();
            for (String in : inputs) {
                parts.add(pool.submit(() -> listOne(in, conf)));
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < parts.size(); i++) {
                try {
                    out.addAll(parts.get(i).get());
                } catch (ExecutionException e) {
                    throw new UsageException("cannot list input " + inputs.get(i) + ": " + firstLine(e.getCause()));
                }
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UsageException("interrupted while listing the inputs");
        } finally {
            pool.shutdownNow();
        }
    }

    private static List<String> listOne(String in, Configuration conf) throws IOException {
        Path root = new Path(in);
        FileSystem fs = root.getFileSystem(conf);
        FileStatus st = fs.getFileStatus(root);
        List<String> out = new ArrayList<>();
        if (!st.isDirectory()) {
            if (!hidden(st.getPath().getName())) {
                out.add(st.getPath().toString());
            }
            return out;
        }
        String prefix = st.getPath().toString();
        // One recursive listing: on object stores a flat, paged LIST, not a call per directory.
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
        while (it.hasNext()) {
            String p = it.next().getPath().toString();
            if (!hiddenBelow(prefix, p)) {
                out.add(p);
            }
        }
        out.sort(null);
        return out;
    }

    private static boolean hiddenBelow(String root, String path) {
        String rel = path.startsWith(root) ? path.substring(root.length()) : path;
        for (String part : rel.split("/")) {
            if (!part.isEmpty() && hidden(part)) {
                return true;
            }
        }
        return false;
    }

    private static boolean hidden(String name) {
        return name.startsWith("_") || name.startsWith(".");
    }

    static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
