package org.mipflow.spark;

import java.nio.file.Path;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
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
import org.mipflow.model.BatchBudget;
import org.mipflow.model.DecoderFacts;
import org.mipflow.model.NumericPath;
import org.mipflow.sampling.SamplerConfig;

/**
 * Decodes latents inside a Spark ML pipeline: appends {@code image} (PNG), {@code width},
 * {@code height}, {@code mode}, {@code forward_passes}, {@code decode_ms}, the metrics
 * ({@code psnr}, {@code ssim}, {@code ms_ssim}, {@code haarpsi}) and {@code error} to each row,
 * lazily. A row that cannot be decoded keeps its place with {@code error} set. Rows go through
 * {@link DecodePartition}, the code path of the decode command, with the model loaded once per
 * executor JVM; an image's bytes depend only on (model, mode, seed, id, latent).
 */
public final class LatentDecoder extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    private final String uid;

    private final Param<String> modelDir;
    private final Param<String> mode;
    private final IntParam steps;
    private final Param<String> stageSteps;
    private final LongParam seed;
    private final IntParam batchSize;
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
                "full | multiscale | onestep | auto (onestep if the model has a student, else multiscale)");
        steps = new IntParam(this, "steps", "Euler steps of mode full");
        stageSteps = new Param<>(this, "stageSteps",
                "Euler steps per stage of mode multiscale: one count, or one per stage, comma-separated");
        memoryBudgetMiB = new IntParam(this, "memoryBudgetMiB",
                "working set per task that automatic batches stay within");
        precision = new Param<>(this, "precision", "fp32 | bf16 | auto");
        layout = new Param<>(this, "layout", "nchw | nhwc | auto");
        metrics = new Param<>(this, "metrics",
                "per-image metrics against the reference column, any of " + MetricSet.ALL);
        maxLatentSide = new IntParam(this, "maxLatentSide", "largest latent height or width");
        idCol = new Param<>(this, "idCol", "id column (STRING), seeds each image's noise");
        latentCol = new Param<>(this, "latentCol",
                "latent column: ARRAY<FLOAT>, or BINARY of little-endian float16/bfloat16/float32 values");
        latentDtypeCol = new Param<>(this, "latentDtypeCol",
                "column naming each BINARY latent's encoding (float16, bfloat16, float32), used when present");
        channelsCol = new Param<>(this, "channelsCol", "latent channels column (INT)");
        heightCol = new Param<>(this, "heightCol", "latent height column (INT)");
        widthCol = new Param<>(this, "widthCol", "latent width column (INT)");
        seed = new LongParam(this, "seed", "noise seed; an image's noise comes from (seed, id)");
        batchSize = new IntParam(this, "batchSize", "rows per sampler call; 0 = as many as fit memoryBudgetMiB");
        threads = new IntParam(this, "threads",
                "libtorch threads per task; 0 = cores / concurrent tasks (local) or spark.task.cpus");
        latentDtype = new Param<>(this, "latentDtype",
                "encoding of BINARY latents when there is no latentDtypeCol column; empty = required per row");
        referenceCol = new Param<>(this, "referenceCol",
                "optional original image (PNG/JPEG BINARY) to score against; ignored when absent");
        setDefault(modelDir, "models/default");
        setDefault(mode, "auto");
        setDefault(steps, SamplerConfig.DEFAULT_FULL_STEPS);
        setDefault(stageSteps, Integer.toString(SamplerConfig.DEFAULT_STAGE_STEPS));
        setDefault(seed, 0L);
        setDefault(batchSize, 0);
        setDefault(memoryBudgetMiB, (int) (BatchBudget.CPU_DEFAULT_BYTES >> 20));
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

    @Override
    public String uid() {
        return uid;
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
        String p = DecodeSchemas.problems(schema, columns());
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
        DecodePartition fn = new DecodePartition(settings(dataset.sparkSession()), in, columns(), false);
        return dataset.toDF().mapPartitions(fn, Encoders.row(fn.outputSchema()));
    }

    /** What executors decode with, from the params; checks them and the model directory on the driver. */
    public DecodeSettings settings(SparkSession session) {
        String dir = getOrDefault(modelDir);
        DecoderFacts facts = DecoderFacts.read(Path.of(dir));
        org.mipflow.sampling.SamplingMode m = org.mipflow.sampling.SamplingMode
                .parse(getOrDefault(mode), facts.hasStudent()).checkedFor(dir, facts.hasStudent());
        SamplerConfig sampler = SamplerConfig.parse(m, (Integer) getOrDefault(steps), getOrDefault(stageSteps),
                facts.schedule().stages());
        NumericPath.Request numerics =
                new NumericPath.Request(getOrDefault(precision), getOrDefault(layout)).checkedForAnyDevice();
        int t = (Integer) getOrDefault(threads);
        return new DecodeSettings(dir, sampler, (Integer) getOrDefault(batchSize), (Long) getOrDefault(seed),
                t > 0 ? t : TaskSlots.intraOpThreads(session), null,
                new RowLimits((Integer) getOrDefault(maxLatentSide), RowLimits.DEFAULT.maxReferenceBytes(),
                        RowLimits.DEFAULT.maxReferencePixels()),
                null, MetricSet.parse(getOrDefault(metrics)), numerics,
                new BatchBudget((long) (int) (Integer) getOrDefault(memoryBudgetMiB) << 20, BatchBudget.DEFAULT_MAX_BATCH));
    }

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
    public Param<String> stageSteps() { return stageSteps; }
    public LongParam seed() { return seed; }
    public IntParam batchSize() { return batchSize; }
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
    public LatentDecoder setStageSteps(String v) { set(stageSteps, v); return this; }
    public LatentDecoder setSeed(long v) { set(seed, v); return this; }
    public LatentDecoder setBatchSize(int v) { set(batchSize, v); return this; }
    public LatentDecoder setMemoryBudgetMiB(int v) { set(memoryBudgetMiB, v); return this; }
    public LatentDecoder setPrecision(String v) { set(precision, v); return this; }
    public LatentDecoder setLayout(String v) { set(layout, v); return this; }
    public LatentDecoder setMetrics(String v) { set(metrics, v); return this; }
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
