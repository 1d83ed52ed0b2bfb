package org.mipflow.jobs.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.mipflow.io.RowLimits;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.SparkSupport;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.decode.DecodeJob;
import org.mipflow.jobs.output.OutputDir;
import org.mipflow.jobs.output.OutputGuard;
import org.mipflow.jobs.output.WritePolicy;
import org.mipflow.model.DecoderFacts;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import org.mipflow.spark.DecodeSettings;

/**
 * {@code mipflow scale-bench}: what the number of shards costs. The same rows as one shard and as
 * many tiny shards, decoded alternately in one JVM (wall time, images/s, bytes compared per id),
 * then {@code decode --dry-run} over tens of thousands of one-row shards in a child JVM (wall time
 * and peak RSS from /usr/bin/time).
 */
public final class ScaleBenchCommand implements Command {
    @Override
    public String name() {
        return "scale-bench";
    }

    @Override
    public String summary() {
        return "Decodes the same random latents as one shard and as --shards tiny shards, alternated over\n"
                + "--rounds, and prints wall time, images/s and their ratio per round; checks every id has the\n"
                + "same bytes both ways. Then times 'decode --dry-run' (wall, peak RSS) over each count in\n"
                + "--dry-run-shards one-row shards (generated once under --out). Writes OUT/scale.md.";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                Options.Spec.value("rows", "N", "2000", "rows decoded both ways"),
                Options.Spec.value("shards", "N", "1000", "tiny shards the rows are split into"),
                Options.Spec.value("size", "PX", "64", "image side (latent side = size / 8)"),
                Options.Spec.value("rounds", "N", "2", "alternated rounds"),
                Options.Spec.value("mode", "MODE", SamplingMode.AUTO, "sampling mode (auto: the fastest the model has)"),
                Options.Spec.value("model", "DIR", "models/default", "model directory"),
                Options.Spec.value("dry-run-shards", "N[,N...]", "20000,100000",
                        "shard counts for the dry-run timings (0 to skip)"),
                Options.Spec.value("out", "DIR", "out/scale-bench", "data and report directory"),
                Options.Spec.value("master", "URL", null, "Spark master (default local[*])"),
                Options.Spec.flag("overwrite", "replace an earlier run's scale.md and decodes under --out (the "
                        + "generated inputs there are reused, not replaced)"));
    }

    @Override
    public int run(Options o) throws Exception {
        int rows = o.getInt("rows", 1, 10_000_000);
        int shards = o.getInt("shards", 1, 1_000_000);
        int size = o.getInt("size", 32, 1024);
        int rounds = o.getInt("rounds", 1, 100);
        Path out = o.path("out").toAbsolutePath();
        Path model = o.path("model").toAbsolutePath();
        DecoderFacts facts = DecoderFacts.read(model);
        SamplerConfig sampler;
        try {
            sampler = SamplerConfig.parse(SamplingMode.parse(o.get("mode"), facts.modes())
                    .checkedFor(model.toString(), facts.hasStudent()), SamplerConfig.DEFAULT_FULL_STEPS,
                    Integer.toString(SamplerConfig.DEFAULT_STAGE_STEPS), facts.schedule().stages());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<Integer> dryRunShards = dryRunShards(o.get("dry-run-shards"));
        try (OutputGuard guard = OutputGuard.openLocal("scale-bench", out, List.of(model),
                WritePolicy.of(false, o.flag("overwrite")), LAYOUT)) {
            guard.planIsValid(); // every option is parsed and the model checked by now
            return run(o, rows, shards, size, rounds, out, model, facts, sampler, dryRunShards);
        }
    }

    /** --dry-run-shards: 0, or comma-separated shard counts. */
    private static List<Integer> dryRunShards(String spec) throws UsageException {
        List<Integer> counts = new ArrayList<>();
        if (spec.equals("0")) {
            return counts;
        }
        for (String n : spec.split(",")) {
            try {
                counts.add(Integer.parseInt(n.trim()));
            } catch (NumberFormatException e) {
                counts.add(0);
            }
            if (counts.get(counts.size() - 1) < 1) {
                throw new UsageException("--dry-run-shards takes 0 or shard counts of at least 1, comma-separated, not '"
                        + spec + "'");
            }
        }
        return counts;
    }

    /**
     * The report and the decodes; the generated inputs (one-shard/, N-shards/, dry-N/) are a
     * cache that later runs reuse, so --overwrite keeps them.
     */
    static final OutputDir.Layout LAYOUT = OutputDir.Layout.of("scale\\.md|decoded-.*|dry-out",
            "scale.md, decoded-*/");

    private static int run(Options o, int rows, int shards, int size, int rounds, Path out, Path model,
            DecoderFacts facts, SamplerConfig sampler, List<Integer> dryRunShards) throws Exception {
        int c = facts.latentChannels();
        int side = size / facts.downsample();
        StringBuilder md = new StringBuilder("# Scale bench\n\n");
        SparkSession spark = SparkSupport.session("mipflow scale-bench", o.getOr("master", null));
        try {
            String one = out.resolve("one-shard").toString();
            String many = out.resolve(shards + "-shards").toString();
            writeRows(spark, rows, c, side, one, 1);
            writeRows(spark, rows, c, side, many, shards);
            DecodeSettings s = new DecodeSettings(model.toString(), sampler, 0, 0, 0, null, RowLimits.DEFAULT, null);
            System.out.println("scale-bench: warm-up (model load) on the one-shard input");
            // Every round decodes into the same two directories, each replacing the last.
            DecodeJob.run(spark, List.of(one), out.resolve("decoded-warmup").toString(), s, WritePolicy.OVERWRITE);
            md.append(String.format(Locale.ROOT, "%d rows at %d px (%s), one shard against %d shards of about %d rows,"
                    + " alternated in one JVM (%s); wall time of the whole decode (scan, duplicates, waves, commits, "
                    + "summary).%n%n| round | input | wall s | images/s | wall ratio (shards / one) |%n|---|---|---|---|---|%n",
                    rows, size, o.get("mode"), shards, Math.max(1, rows / shards), spark.sparkContext().master()));
            String oneOut = out.resolve("decoded-one").toString();
            String manyOut = out.resolve("decoded-many").toString();
            for (int r = 0; r < rounds; r++) {
                double[] wall = new double[2];
                double[] ips = new double[2];
                for (int k = 0; k < 2; k++) {
                    int which = (r % 2 == 0) ? k : 1 - k; // alternate who goes first
                    long t0 = System.nanoTime();
                    DecodeJob.Summary sm = DecodeJob.run(spark, List.of(which == 0 ? one : many),
                            which == 0 ? oneOut : manyOut, s, WritePolicy.OVERWRITE);
                    wall[which] = (System.nanoTime() - t0) / 1e9;
                    ips[which] = sm.decoded() / wall[which];
                }
                String line1 = String.format(Locale.ROOT, "| %d | 1 shard | %.1f | %.2f | |%n", r + 1, wall[0], ips[0]);
                String line2 = String.format(Locale.ROOT, "| %d | %d shards | %.1f | %.2f | %.2fx |%n", r + 1, shards,
                        wall[1], ips[1], wall[1] / wall[0]);
                System.out.print("scale-bench: " + line1 + "scale-bench: " + line2);
                md.append(line1).append(line2);
            }
            int differ = compare(spark, oneOut, manyOut);
            md.append(String.format(Locale.ROOT, "%nIds whose image bytes differ between the two: %d%n", differ));
            System.out.println("scale-bench: ids whose bytes differ between one shard and " + shards + " shards: "
                    + differ);
        } finally {
            spark.stop();
        }
        if (!dryRunShards.isEmpty()) {
            md.append("\n`decode --dry-run` in a child JVM over one-row shards (wall and peak RSS by /usr/bin/time):\n\n"
                    + "| shards | wall s | peak RSS MB | what it printed |\n|---|---|---|---|\n");
            for (int k : dryRunShards) {
                Path dir = out.resolve("dry-" + k);
                oneRowShards(dir, k, c, side);
                md.append(dryRun(dir, out.resolve("dry-out"), model, k));
            }
        }
        Files.createDirectories(out);
        Files.writeString(out.resolve("scale.md"), md.toString(), StandardCharsets.UTF_8);
        System.out.println("report: " + out.resolve("scale.md"));
        return 0;
    }

    private static StructType schema() {
        return DataTypes.createStructType(List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("latent", DataTypes.createArrayType(DataTypes.FloatType, false), false),
                DataTypes.createStructField("latent_c", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_h", DataTypes.IntegerType, false),
                DataTypes.createStructField("latent_w", DataTypes.IntegerType, false)));
    }

    /** {@code rows} seeded random latents in {@code files} files (round-robin: equal sizes), written once. */
    private static void writeRows(SparkSession spark, int rows, int c, int side, String dir, int files) {
        if (Files.exists(Path.of(dir, "_SUCCESS"))) {
            return;
        }
        SplittableRandom rnd = new SplittableRandom(17);
        List<Row> list = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            float[] z = new float[c * side * side];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) rnd.nextGaussian();
            }
            list.add(RowFactory.create(String.format(Locale.ROOT, "row-%07d", r), z, c, side, side));
        }
        var df = spark.createDataFrame(list, schema());
        (files == 1 ? df.coalesce(1) : df.repartition(files)).write().mode("overwrite").parquet(dir);
    }

    private static int compare(SparkSession spark, String a, String b) {
        Map<String, byte[]> x = new HashMap<>();
        for (Row r : spark.read().parquet(a + "/images").select("id", "image").collectAsList()) {
            x.put(r.getString(0), (byte[]) r.get(1));
        }
        int differ = 0;
        int seen = 0;
        for (Row r : spark.read().parquet(b + "/images").select("id", "image").collectAsList()) {
            seen++;
            if (!java.util.Arrays.equals(x.get(r.getString(0)), (byte[]) r.get(1))) {
                differ++;
            }
        }
        return differ + Math.abs(x.size() - seen);
    }

    /** {@code n} one-row Parquet shards, written directly (a Spark job of n tasks would take longer), once. */
    private static void oneRowShards(Path dir, int n, int c, int side) throws IOException {
        Path done = dir.resolve("_COMPLETE");
        if (Files.exists(done)) {
            return;
        }
        Files.createDirectories(dir);
        MessageType schema = MessageTypeParser.parseMessageType("message spark_schema {\n"
                + "  required binary id (STRING);\n"
                + "  required group latent (LIST) { repeated group list { required float element; } }\n"
                + "  required int32 latent_c; required int32 latent_h; required int32 latent_w;\n}");
        Configuration conf = new Configuration(false);
        SimpleGroupFactory groups = new SimpleGroupFactory(schema);
        SplittableRandom rnd = new SplittableRandom(23);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            // Plain java.nio files: Hadoop's local file system forks chmod per created file here.
            LocalOutputFile p = new LocalOutputFile(dir.resolve(String.format(Locale.ROOT, "part-%07d.parquet", i)));
            try (ParquetWriter<Group> w = ExampleParquetWriter.builder(p).withConf(conf).withType(schema)
                    .withCompressionCodec(CompressionCodecName.SNAPPY).build()) {
                Group g = groups.newGroup().append("id", String.format(Locale.ROOT, "one-%07d", i));
                Group latent = g.addGroup("latent");
                for (int v = 0; v < c * side * side; v++) {
                    latent.addGroup("list").append("element", (float) rnd.nextGaussian());
                }
                g.append("latent_c", c).append("latent_h", side).append("latent_w", side);
                w.write(g);
            }
            if ((i + 1) % 10_000 == 0) {
                System.out.printf(Locale.ROOT, "scale-bench: wrote %d of %d one-row shards (%.0f s)%n", i + 1, n,
                        (System.nanoTime() - t0) / 1e9);
            }
        }
        Files.writeString(done, "");
    }

    /** Runs bin/mipflow decode --dry-run under /usr/bin/time; one Markdown table row. */
    private static String dryRun(Path input, Path out, Path model, int n) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/time", "-f", "TIME %e %M", "bin/mipflow", "decode",
                "--dry-run", "--input", input.toString(), "--out", out.toString(), "--model", model.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        String wall = "?";
        String rss = "?";
        List<String> said = new ArrayList<>();
        for (String l : log.split("\n")) {
            if (l.startsWith("TIME ")) {
                String[] f = l.split(" ");
                wall = f[1];
                rss = String.format(Locale.ROOT, "%.0f", Long.parseLong(f[2]) / 1024.0);
            } else if (l.startsWith("dry run:")) {
                said.add(l.substring("dry run: ".length()));
            }
        }
        System.out.printf("scale-bench: dry run over %d shards: %s s wall, %s MB peak RSS%n", n, wall, rss);
        said.forEach(l -> System.out.println("scale-bench:   " + l));
        if (p.exitValue() != 0) {
            System.out.println(log);
        }
        return String.format(Locale.ROOT, "| %d | %s | %s | %s |%n", n, wall, rss, String.join("; ", said));
    }
}
