package org.mipflow.jobs.encode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.mipflow.jobs.cli.UsageException;

/**
 * Every file an encode was given, each accounted for: image files (PNG/JPEG by extension) with the
 * id each gets, Parquet files with {@code id} and {@code image} columns, Parquet files that cannot
 * be used (with the reason), and other files (skipped, listed). Directories are walked recursively;
 * names starting with {@code _} or {@code .} are Spark's and Hadoop's markers and are passed over,
 * as Spark's own readers pass them over.
 *
 * <p>An image's id is its file name without the extension; files whose names differ only in the
 * extension ({@code f3.jpg}, {@code f3.png}) keep it ({@code f3.jpg}, {@code f3.png}), so both
 * come back from decode; names that still collide (the same name in two folders) are refused.
 *
 * @param images image file (qualified path) to its id, in listing order
 * @param keptExtension ids that kept their extension, for the run's closing lines
 */
public record EncodeInputs(Map<String, String> images, List<String> keptExtension, List<String> parquet,
        Map<String, String> badParquet, List<String> others) {

    static EncodeInputs list(SparkSession spark, List<String> inputs) throws UsageException, IOException {
        List<FileStatus> files = new ArrayList<>();
        for (String in : inputs) {
            Path p = new Path(in);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus st = fs.getFileStatus(p);
            if (!st.isDirectory()) {
                files.add(st);
                continue;
            }
            walk(fs, p, files);
        }
        Map<String, List<String>> byStem = new TreeMap<>();
        List<String> parquet = new ArrayList<>();
        Map<String, String> badParquet = new LinkedHashMap<>();
        List<String> others = new ArrayList<>();
        for (FileStatus f : files) {
            String path = f.getPath().toString();
            String name = f.getPath().getName();
            switch (extension(name)) {
                case "png", "jpg", "jpeg" -> byStem.computeIfAbsent(name.substring(0, name.lastIndexOf('.')),
                        k -> new ArrayList<>()).add(path);
                case "parquet" -> {
                    String problem = parquetProblem(spark, path);
                    if (problem == null) {
                        parquet.add(path);
                    } else {
                        badParquet.put(path, problem);
                    }
                }
                default -> others.add(path);
            }
        }
        Map<String, String> images = new LinkedHashMap<>();
        List<String> kept = new ArrayList<>();
        Map<String, String> byId = new TreeMap<>();
        for (var e : byStem.entrySet()) {
            boolean clash = e.getValue().size() > 1;
            for (String path : e.getValue()) {
                String id = clash ? new Path(path).getName() : e.getKey();
                String other = byId.put(id, path);
                if (other != null) {
                    throw new UsageException("two image files would get the id " + id + ": " + other + " and " + path
                            + "; rename one, or encode the folders one at a time");
                }
                images.put(path, id);
                if (clash) {
                    kept.add(id);
                }
            }
        }
        if (images.isEmpty() && parquet.isEmpty()) {
            throw new UsageException("nothing to encode in " + String.join(", ", inputs) + ": no PNG or JPEG files"
                    + (badParquet.isEmpty() ? "" : ", no usable Parquet (" + badParquet.size() + " file(s), e.g. "
                            + badParquet.keySet().iterator().next() + ": " + badParquet.values().iterator().next() + ")")
                    + (others.isEmpty() ? "" : "; " + others.size() + " other file(s), e.g. " + others.get(0)));
        }
        kept.sort(null);
        return new EncodeInputs(images, List.copyOf(kept), parquet, badParquet, others);
    }

    /**
     * The files under {@code dir}, directory by directory, without the names Spark's readers skip
     * (markers and checksums: {@code _*}, {@code .*}). Not listFiles(recursive): its located
     * statuses make the local file system fork a process per file.
     */
    private static void walk(FileSystem fs, Path dir, List<FileStatus> out) throws IOException {
        RemoteIterator<FileStatus> it = fs.listStatusIterator(dir);
        List<FileStatus> entries = new ArrayList<>();
        while (it.hasNext()) {
            FileStatus st = it.next();
            String name = st.getPath().getName();
            if (!name.startsWith("_") && !name.startsWith(".")) {
                entries.add(st);
            }
        }
        entries.sort(null);
        for (FileStatus st : entries) {
            if (st.isDirectory()) {
                walk(fs, st.getPath(), out);
            } else {
                out.add(st);
            }
        }
    }

    private static String extension(String name) {
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** Why a Parquet file cannot be encoded from, or null: it must be readable with id and BINARY image. */
    private static String parquetProblem(SparkSession spark, String path) {
        StructType s;
        try {
            s = spark.read().parquet(path).schema();
        } catch (Exception e) { // Spark's SparkException is checked, yet thrown undeclared
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return "not a readable Parquet file (" + m.strip().lines().findFirst().orElse("") + ")";
        }
        List<String> names = List.of(s.fieldNames());
        if (!names.contains("id") || !names.contains("image")) {
            return "has no columns id and image (encode reads images; its columns are " + String.join(", ", names)
                    + ")";
        }
        if (!s.apply("image").dataType().equals(DataTypes.BinaryType)) {
            return "its column image is " + s.apply("image").dataType().simpleString() + ", not BINARY";
        }
        return null;
    }
}
