package org.mipflow.jobs.decode;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
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
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.parquet.HadoopReadOptions;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.MessageColumnIO;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.internal.SQLConf;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.OutputLease;
import org.mipflow.spark.DecodeSchemas;
import org.mipflow.spark.HadoopConf;
import org.mipflow.spark.LatentColumns;

/**
 * Finds the input shards and checks each one's footer and columns before any decoding, so that
 * one bad file cannot fail a night-long job and is still accounted for. Listing is paged by the
 * file system (in parallel across inputs); footers are read by
 * Spark tasks, many per task, never one after another on the driver, and the same pass reads
 * each good shard's id column for the duplicate check (opening a file costs more than reading
 * one column of it). The driver keeps one small record per shard; the ids stay in Spark.
 */
public final class ShardScan {
    /**
     * A shard the footer check passed, with its row count and Spark schema (as JSON; shards of one
     * data set share the same string instance) from the footer.
     */
    public record Shard(String path, long rows, String schema) implements Serializable {}

    /**
     * Good shards in listing order, bad shards with the reason, and every good row's id (one
     * STRING column {@code id}, nulls left out) as a Dataset computed from the scan's cached pass.
     */
    public record Result(List<Shard> good, Map<String, String> bad, Dataset<Row> ids, Runnable release) {
        public long rows() {
            return good.stream().mapToLong(Shard::rows).sum();
        }
    }

    /** What a task found in one file: rows and ids, or the reason it cannot be decoded. */
    private record Checked(String path, long rows, String schema, String problem, List<String> ids)
            implements Serializable {
        Checked withoutIds() {
            return new Checked(path, rows, schema, problem, List.of());
        }
    }

    private ShardScan() {}

    public static Result scan(SparkSession spark, List<String> inputs, LatentColumns cols) throws UsageException {
        List<String> files = list(spark, inputs);
        if (files.isEmpty()) {
            throw new UsageException("no data files under " + inputs);
        }
        spark.sparkContext().setJobDescription("mipflow scan " + files.size() + " shard footers");
        int slices = (int) Math.max(1, Math.min(files.size(), Math.max(4L * spark.sparkContext().defaultParallelism(),
                files.size() / 2000)));
        JavaRDD<Checked> pass = JavaSparkContext.fromSparkContext(spark.sparkContext())
                .parallelize(files, slices)
                .mapPartitions((Iterator<String> it) -> {
                    Configuration conf = HadoopConf.current();
                    // Built once per task: ParquetFileReader.open(file) alone rebuilds them per file (~7 ms).
                    ParquetReadOptions options = HadoopReadOptions.builder(conf).build();
                    ParquetToSparkSchemaConverter converter = new ParquetToSparkSchemaConverter(SQLConf.get());
                    List<Checked> out = new ArrayList<>();
                    while (it.hasNext()) {
                        out.add(check(it.next(), conf, options, converter, cols));
                    }
                    return out.iterator();
                })
                .persist(StorageLevel.MEMORY_AND_DISK_SER());
        List<Checked> checked = pass.map(Checked::withoutIds).collect();
        spark.sparkContext().setJobDescription(null);
        Dataset<Row> ids = spark.createDataFrame(pass.flatMap(c -> c.ids().iterator()).map(RowFactory::create),
                DataTypes.createStructType(List.of(DataTypes.createStructField("id", DataTypes.StringType, false))));
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
        return new Result(good, bad, ids, () -> pass.unpersist(false));
    }

    /** Reads one footer and the id column: rows and ids, or why the file is not a shard of the contract. */
    private static Checked check(String file, Configuration conf, ParquetReadOptions options,
            ParquetToSparkSchemaConverter converter, LatentColumns cols) {
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(file), conf), options)) {
            MessageType parquet = r.getFooter().getFileMetaData().getSchema();
            StructType schema = converter.convert(parquet);
            String p = DecodeSchemas.problems(schema, cols);
            if (p != null) {
                return new Checked(file, 0, null, "does not follow the input contract: " + p, List.of());
            }
            return new Checked(file, r.getRecordCount(), schema.json(), null, ids(r, parquet, cols.id()));
        } catch (Exception e) {
            String name = file.toLowerCase(java.util.Locale.ROOT);
            if (name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg")) {
                return new Checked(file, 0, null, "an image, not Parquet latents ('mipflow encode' turns images into "
                        + "latents)", List.of());
            }
            return new Checked(file, 0, null,
                    "not a readable Parquet file (truncated or another format): " + firstLine(e), List.of());
        }
    }

    /** The id column's non-null values, read row group by row group through a one-column projection. */
    private static List<String> ids(ParquetFileReader r, MessageType parquet, String column) {
        MessageType projection = new MessageType(parquet.getName(), parquet.getType(column));
        r.setRequestedSchema(projection);
        MessageColumnIO io = new ColumnIOFactory().getColumnIO(projection);
        List<String> ids = new ArrayList<>();
        try {
            PageReadStore pages;
            while ((pages = r.readNextRowGroup()) != null) {
                RecordReader<Group> records = io.getRecordReader(pages, new GroupRecordConverter(projection));
                for (long i = 0; i < pages.getRowCount(); i++) {
                    Group g = records.read();
                    if (g.getFieldRepetitionCount(0) > 0) {
                        ids.add(g.getString(0, 0));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return ids;
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
        collect(fs, st.getPath(), out);
        out.sort(null);
        return out;
    }

    /**
     * Paged listings, directory by directory. (Not listFiles(recursive): its located statuses make
     * the local file system fork a process per file for permissions, 10 ms each.)
     */
    private static void collect(FileSystem fs, Path dir, List<String> out) throws IOException {
        List<FileStatus> entries = new ArrayList<>();
        boolean decodeOutput = false;
        RemoteIterator<FileStatus> it = fs.listStatusIterator(dir);
        while (it.hasNext()) {
            FileStatus st = it.next();
            String name = st.getPath().getName();
            decodeOutput |= name.equals(WaveCommits.COMMITS) || name.equals(OutputLease.FILE);
            if (!hidden(name)) {
                entries.add(st);
            }
        }
        for (FileStatus st : entries) {
            // A decode's output under an input (the in/out check refuses that layout for new runs,
            // but one may predate it): its images and errors are not latents.
            if (decodeOutput && WaveCommits.LAYOUT.owned().matcher(st.getPath().getName()).matches()) {
                continue;
            }
            if (st.isDirectory()) {
                collect(fs, st.getPath(), out);
            } else {
                out.add(st.getPath().toString());
            }
        }
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
