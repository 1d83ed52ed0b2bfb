package org.mipflow.spark;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.shared.HasSeed;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.mipflow.io.LatentEncoding;
import org.mipflow.io.RowLimits;
import org.mipflow.metrics.MetricSet;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.SamplerConfig;
import org.mipflow.sampling.SamplingMode;
import scala.Function1;

/**
 * Decodes latents inside a Spark ML pipeline: appends {@code image} (PNG), {@code width},
 * {@code height}, {@code mode}, {@code forward_passes}, {@code decode_ms}, the metrics
 * ({@code psnr}, {@code ssim}, {@code ms_ssim}, {@code haarpsi}) and {@code error} to each row,
 * lazily. A row that cannot be decoded keeps its place with {@code error} set, fails the job, or
 * is dropped, as {@code handleInvalid} says (keep, error, skip). Rows go through
 * {@link DecodePartition}, the code path of the decode command, with the model loaded once per
 * executor JVM. Each {@code transform} resolves one recipe ({@link org.mipflow.recipe.Recipe}) on the
 * driver, decodes every row with it and records it in its output columns' metadata (key
 * {@link #RECIPE_METADATA}). An image's bytes depend on that recipe (the model's files, the mode
 * and its steps, the seed, the guidance, the numerics and the rows per network call as resolved),
 * the row's id and its latent, and the libtorch threads per task; not on the partitioning or on
 * which rows share a task batch (docs/bytes.md states the rule and what holds it).
 *
 * <p>Spark ML's conventions: Param values are checked when they are set (an invalid one throws
 * {@code IllegalArgumentException} from {@code set}, and from {@code load} of a saved stage);
 * {@code seed} is Spark's shared {@link HasSeed} Param.
 */
public final class LatentDecoder extends Transformer implements HasSeed, DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;
    /** Set by {@link HasSeed}'s initialiser, through the setter Scala's trait calls. */
    private LongParam seed;

    private final Param<String> modelDir;
    private final Param<String> mode;
    private final IntParam steps;
    private final DoubleParam cfgScale;
    private final Param<String> stageSteps;
    private final Param<String> handleInvalid;
    private final IntParam batchSize;
    private final IntParam rowsPerCall;
    private final IntParam memoryBudgetMiB;
    private final Param<String> precision;
    private final Param<String> layout;
    private final Param<String> metrics;
    private final IntParam threads;
    private final IntParam maxLatentSide;
    private final Param<String> idCol;
    private final Param<String> latentCol;
    private final Param<String> latentDtypeCol;
    private final Param<String> latentDtype;
    private final Param<String> channelsCol;
    private final Param<String> heightCol;
    private final Param<String> widthCol;
    private final Param<String> referenceCol;

    public LatentDecoder() {
        this(Identifiable.randomUID("latentDecoder"));
    }

    public LatentDecoder(String uid) {
        // Params name their parent by uid when they are made, so the uid comes first.
        this.uid = uid;
        modelDir = new Param<>(this, "modelDir",
                "model directory, readable at the same local path on the driver and every executor");
        mode = new Param<>(this, "mode",
                "full | multiscale | onestep | auto (the fastest mode the model was trained for: onestep, multiscale, full)",
                oneOf(MODES));
        steps = new IntParam(this, "steps", "Euler steps of mode full", ParamValidators.gtEq(1));
        cfgScale = new DoubleParam(this, "cfgScale", "classifier-free guidance scale W (models with a null "
                + "condition; 1 or less: unguided); negative: the model's own default", ParamValidators.inRange(-1, 100));
        stageSteps = new Param<>(this, "stageSteps",
                "Euler steps per stage of mode multiscale: one count, or one per stage, comma-separated");
        memoryBudgetMiB = new IntParam(this, "memoryBudgetMiB", "memory one network call's rows may hold, capping an "
                + "automatic rowsPerCall; 0 = auto (GPU: 40% of its memory shared by its tasks; CPU: no cap)",
                ParamValidators.gtEq(0));
        precision = new Param<>(this, "precision", "fp32 | bf16 | auto", oneOf(PRECISIONS));
        layout = new Param<>(this, "layout", "nchw | nhwc | auto", oneOf(LAYOUTS));
        metrics = new Param<>(this, "metrics",
                "per-image metrics against the reference column, any of " + MetricSet.ALL,
                parses("metrics", MetricSet::parse));
        maxLatentSide = new IntParam(this, "maxLatentSide", "largest latent height or width", ParamValidators.gtEq(1));
        idCol = new Param<>(this, "idCol", "id column (STRING), seeds each image's noise");
        latentCol = new Param<>(this, "latentCol",
                "latent column: ARRAY<FLOAT>, or BINARY of little-endian float16/bfloat16/float32 values");
        latentDtypeCol = new Param<>(this, "latentDtypeCol",
                "column naming each BINARY latent's encoding (float16, bfloat16, float32), used when present");
        channelsCol = new Param<>(this, "channelsCol", "latent channels column (INT)");
        heightCol = new Param<>(this, "heightCol", "latent height column (INT)");
        widthCol = new Param<>(this, "widthCol", "latent width column (INT)");
        // Spark's shared seed Param ("seed", "random seed"); an image's noise comes from (seed, id).
        HasSeed.$init$(this);
        batchSize = new IntParam(this, "batchSize", "rows per task batch: images sampled together through the "
                + "schedule (speed and memory only, never bytes); 0 = auto (rowsPerCall)", ParamValidators.gtEq(0));
        rowsPerCall = new IntParam(this, "rowsPerCall", "rows in every network call, the last one padded; an image's "
                + "bytes depend on it; 0 = auto (CPU: measured table by image size; GPU: memoryBudgetMiB)",
                ParamValidators.gtEq(0));
        threads = new IntParam(this, "threads",
                "libtorch threads per task; 0 = cores / concurrent tasks (local) or spark.task.cpus",
                ParamValidators.gtEq(0));
        latentDtype = new Param<>(this, "latentDtype",
                "encoding of BINARY latents when there is no latentDtypeCol column; empty = required per row",
                parses("latentDtype", v -> {
                    if (!v.isEmpty()) {
                        LatentEncoding.parse(v);
                    }
                }));
        handleInvalid = new Param<>(this, "handleInvalid",
                "how to handle rows that cannot be decoded: keep (the row with error set and the image columns null), "
                        + "error (fail at the first, naming it), skip (drop them; counted in the accumulator "
                        + "'mipflow skipped rows <uid>')",
                oneOf(InvalidRows.LABELS));
        referenceCol = new Param<>(this, "referenceCol",
                "optional original image (PNG/JPEG BINARY) to score against; ignored when absent");
        setDefault(modelDir, "models/default");
        setDefault(mode, "auto");
        setDefault(steps, SamplerConfig.DEFAULT_FULL_STEPS);
        setDefault(cfgScale, -1.0);
        setDefault(stageSteps, Integer.toString(SamplerConfig.DEFAULT_STAGE_STEPS));
        setDefault(seed, 0L); // the decode command's --seed default, not HasSeed's class-name hash: same bytes
        setDefault(handleInvalid, InvalidRows.KEEP.label());
        setDefault(batchSize, 0);
        setDefault(rowsPerCall, 0);
        setDefault(memoryBudgetMiB, 0);
        setDefault(precision, "auto");
        setDefault(layout, "auto");
        setDefault(metrics, "psnr,ssim");
        setDefault(threads, 0);
        setDefault(maxLatentSide, RowLimits.DEFAULT.maxLatentSide());
        setDefault(idCol, DecodeSchemas.ID);
        setDefault(latentCol, DecodeSchemas.LATENT);
        setDefault(latentDtypeCol, DecodeSchemas.DTYPE);
        setDefault(latentDtype, "");
        setDefault(channelsCol, DecodeSchemas.C);
        setDefault(heightCol, DecodeSchemas.H);
        setDefault(widthCol, DecodeSchemas.W);
        setDefault(referenceCol, DecodeSchemas.REFERENCE);
    }

    private static final List<String> MODES = modes();
    private static final List<String> PRECISIONS = List.of("fp32", "bf16", "auto");
    private static final List<String> LAYOUTS = List.of("nchw", "nhwc", "auto");

    private static List<String> modes() {
        List<String> m = new ArrayList<>(List.of("auto"));
        for (SamplingMode x : SamplingMode.values()) {
            m.add(x.label());
        }
        return List.copyOf(m);
    }

    private static <T> Function1<T, Object> oneOf(List<T> allowed) {
        return ParamValidators.inArray(allowed);
    }

    private static Function1<String, Object> oneOf(String[] allowed) {
        return ParamValidators.inArray(List.of(allowed));
    }

    /** A validator that accepts what {@code check} accepts and names the Param in what it rejects. */
    private static Function1<String, Object> parses(String param, Consumer<String> check) {
        return (Function1<String, Object> & Serializable) v -> {
            try {
                check.accept(v);
                return true;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("LatentDecoder param " + param + ": " + e.getMessage(), e);
            }
        };
    }

    @Override
    public String uid() {
        return uid;
    }

    @Override
    public LongParam seed() {
        return seed;
    }

    @Override
    public void org$apache$spark$ml$param$shared$HasSeed$_setter_$seed_$eq(LongParam p) {
        seed = p;
    }

    /** For {@code PipelineModel.load} and {@code LatentDecoder.load(path)}. */
    public static MLReader<LatentDecoder> read() {
        return new DefaultParamsReader<>();
    }

    public static LatentDecoder load(String path) {
        return read().load(path);
    }

    @Override
    public StructType transformSchema(StructType schema) {
        // Each Param was checked when set; combinations are checked here, before any work.
        new NumericPath.Request(getOrDefault(precision), getOrDefault(layout)).checkedForAnyDevice();
        String p = DecodeSchemas.problems(schema, columns().forLatent(facts().latent()));
        if (p != null) {
            throw new IllegalArgumentException("LatentDecoder input: " + p);
        }
        var clashes = DecodeSchemas.clashes(schema);
        if (!clashes.isEmpty()) {
            throw new IllegalArgumentException("LatentDecoder input already has the output column(s) " + clashes
                    + "; rename or drop them first");
        }
        return DecodeSchemas.decoded(schema);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType in = dataset.schema();
        transformSchema(in);
        InvalidRows invalid = InvalidRows.parse(getOrDefault(handleInvalid));
        LatentColumns cols = columns().forLatent(facts().latent());
        ExecutorDevices.Resolution resolved = recipe(dataset.sparkSession());
        DecodePartition fn = new DecodePartition(settings(dataset.sparkSession()).withRecipe(resolved.recipe()), in,
                cols, invalid);
        if (invalid == InvalidRows.SKIP) {
            fn = fn.withSkipCount(dataset.sparkSession().sparkContext().longAccumulator(skipCounter()));
        }
        Dataset<Row> out = dataset.toDF().mapPartitions(fn, Encoders.row(fn.outputSchema()));
        // Spark ML's place for facts about a column: every output column carries the recipe it was made with.
        org.apache.spark.sql.types.Metadata meta = new org.apache.spark.sql.types.MetadataBuilder()
                .putString(RECIPE_METADATA, resolved.recipe().toJson().toString()).build();
        List<String> inputs = List.of(in.fieldNames());
        for (String c : fn.outputSchema().fieldNames()) {
            if (!inputs.contains(c)) {
                out = out.withMetadata(c, meta);
            }
        }
        return out;
    }

    /** The metadata key of the output columns that holds the recipe (JSON, as summary.json's "recipe"). */
    public static final String RECIPE_METADATA = "mipflow_recipe";

    /**
     * The recipe a {@code transform} decodes with, resolved once per call on the driver from what
     * the executors declare, as the decode command resolves it (the same rule and code).
     */
    public ExecutorDevices.Resolution recipe(SparkSession session) {
        return ExecutorDevices.resolve(session, settings(session), facts(), columns().defaultEncoding());
    }

    /**
     * The name of the accumulator that counts the rows handleInvalid=skip drops, registered by each
     * {@code transform}: the Spark UI shows it on the stage, and a SparkListener gets it with each
     * finished task. A retried task may count twice, as for any accumulator updated in a
     * transformation.
     */
    public String skipCounter() {
        return "mipflow skipped rows " + uid;
    }

    /** What executors decode with, from the params; checks them and the model directory on the driver. */
    public DecodeSettings settings(SparkSession session) {
        String dir = getOrDefault(modelDir);
        DecoderFacts facts = facts();
        org.mipflow.sampling.SamplingMode m = org.mipflow.sampling.SamplingMode
                .parse(getOrDefault(mode), facts.modes()).checkedFor(dir, facts.hasStudent());
        double w = (Double) getOrDefault(cfgScale);
        SamplerConfig sampler = facts.check(dir, SamplerConfig.parse(m, (Integer) getOrDefault(steps),
                getOrDefault(stageSteps), facts.schedule().stages()).withCfgScale(w < 0 ? Double.NaN : w));
        NumericPath.Request numerics =
                new NumericPath.Request(getOrDefault(precision), getOrDefault(layout)).checkedForAnyDevice();
        int t = (Integer) getOrDefault(threads);
        Batching batching = new Batching((Integer) getOrDefault(batchSize), (Integer) getOrDefault(rowsPerCall),
                (long) (int) (Integer) getOrDefault(memoryBudgetMiB) << 20);
        return new DecodeSettings(dir, sampler, batching, (Long) getOrDefault(seed),
                t > 0 ? t : TaskSlots.intraOpThreads(session), null,
                new RowLimits((Integer) getOrDefault(maxLatentSide), RowLimits.DEFAULT.maxReferenceBytes(),
                        RowLimits.DEFAULT.maxReferencePixels()),
                null, MetricSet.parse(getOrDefault(metrics)), numerics);
    }

    /** The model directory's facts, read (and checksummed) once per directory. */
    private DecoderFacts facts() {
        String dir = getOrDefault(modelDir);
        if (factsCache == null || !factsCache.getKey().equals(dir)) {
            factsCache = Map.entry(dir, DecoderFacts.read(Path.of(dir)));
        }
        return factsCache.getValue();
    }

    private transient Map.Entry<String, DecoderFacts> factsCache;

    /** The input column names and the BINARY latent encoding, from the params. */
    public LatentColumns columns() {
        String d = getOrDefault(latentDtype);
        return new LatentColumns(getOrDefault(idCol), getOrDefault(latentCol), getOrDefault(channelsCol),
                getOrDefault(heightCol), getOrDefault(widthCol), getOrDefault(referenceCol), getOrDefault(latentDtypeCol),
                d == null || d.isEmpty() ? null : LatentEncoding.parse(d));
    }

    @Override
    public LatentDecoder copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    // Params are found by reflection over public no-argument methods returning a Param, so each
    // has its getter; setters return this for chaining, as Spark's own stages do.

    public Param<String> modelDir() { return modelDir; }
    public Param<String> mode() { return mode; }
    public IntParam steps() { return steps; }
    public DoubleParam cfgScale() { return cfgScale; }
    public Param<String> stageSteps() { return stageSteps; }
    public Param<String> handleInvalid() { return handleInvalid; }
    public IntParam batchSize() { return batchSize; }
    public IntParam rowsPerCall() { return rowsPerCall; }
    public IntParam memoryBudgetMiB() { return memoryBudgetMiB; }
    public Param<String> precision() { return precision; }
    public Param<String> layout() { return layout; }
    public Param<String> metrics() { return metrics; }
    public IntParam threads() { return threads; }
    public IntParam maxLatentSide() { return maxLatentSide; }
    public Param<String> idCol() { return idCol; }
    public Param<String> latentCol() { return latentCol; }
    public Param<String> latentDtypeCol() { return latentDtypeCol; }
    public Param<String> latentDtype() { return latentDtype; }
    public Param<String> channelsCol() { return channelsCol; }
    public Param<String> heightCol() { return heightCol; }
    public Param<String> widthCol() { return widthCol; }
    public Param<String> referenceCol() { return referenceCol; }

    public LatentDecoder setModelDir(String v) { set(modelDir, v); return this; }
    public LatentDecoder setMode(String v) { set(mode, v); return this; }
    public LatentDecoder setSteps(int v) { set(steps, v); return this; }
    public LatentDecoder setCfgScale(double v) { set(cfgScale, v); return this; }
    public LatentDecoder setStageSteps(String v) { set(stageSteps, v); return this; }
    public LatentDecoder setSeed(long v) { set(seed, v); return this; }
    public LatentDecoder setBatchSize(int v) { set(batchSize, v); return this; }
    public LatentDecoder setRowsPerCall(int v) { set(rowsPerCall, v); return this; }
    public LatentDecoder setMemoryBudgetMiB(int v) { set(memoryBudgetMiB, v); return this; }
    public LatentDecoder setPrecision(String v) { set(precision, v); return this; }
    public LatentDecoder setLayout(String v) { set(layout, v); return this; }
    public LatentDecoder setMetrics(String v) { set(metrics, v); return this; }
    public LatentDecoder setHandleInvalid(String v) { set(handleInvalid, v); return this; }
    public LatentDecoder setThreads(int v) { set(threads, v); return this; }
    public LatentDecoder setMaxLatentSide(int v) { set(maxLatentSide, v); return this; }
    public LatentDecoder setIdCol(String v) { set(idCol, v); return this; }
    public LatentDecoder setLatentCol(String v) { set(latentCol, v); return this; }
    public LatentDecoder setLatentDtypeCol(String v) { set(latentDtypeCol, v); return this; }
    public LatentDecoder setLatentDtype(String v) { set(latentDtype, v); return this; }
    public LatentDecoder setChannelsCol(String v) { set(channelsCol, v); return this; }
    public LatentDecoder setHeightCol(String v) { set(heightCol, v); return this; }
    public LatentDecoder setWidthCol(String v) { set(widthCol, v); return this; }
    public LatentDecoder setReferenceCol(String v) { set(referenceCol, v); return this; }
}
