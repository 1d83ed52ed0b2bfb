package org.mipflow.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.mipflow.io.RowRejected;
import org.mipflow.metrics.Metric;
import org.mipflow.model.DecoderModel;
import org.mipflow.model.Models;
import org.mipflow.recipe.Recipe;
import org.mipflow.sampling.Batching;
import org.mipflow.sampling.CallOutOfMemory;
import org.mipflow.sampling.ImageSampler;
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.DecodedImage;
import org.mipflow.sampling.Sampler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes one partition, the one path rows take whoever asks (the decode command, the
 * {@link LatentDecoder} Transformer, bench): parses and validates each row into the
 * {@link BatchDecoder} loop and emits each input row once, with the {@link DecodeSchemas#OUTPUT}
 * columns appended: an image, or {@code error} set (never neither, never both), lazily, batch by
 * batch. What happens to a row that cannot be decoded is its {@link InvalidRows} setting. The
 * {@code with*} methods return copies: an instance, once made, never changes.
 */
public final class DecodePartition implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DecodePartition.class);

    private final DecodeSettings settings;
    private final LatentColumns cols;
    private final StructType output;
    private final int inputWidth;
    private final InvalidRows invalid;
    private final LongAccumulator decodedCount;
    private final LongAccumulator failedCount;
    private final LongAccumulator skippedCount;
    private final CollectionAccumulator<String> loads;
    /** Rows given to the network and rows sent for them per step (null: not counted). */
    private final LongAccumulator rowsCount;
    private final LongAccumulator sentCount;

    /**
     * @param input the schema of the rows this function gets (checked by {@link DecodeSchemas#problems})
     * @param invalid what a row that cannot be decoded becomes: an error row (KEEP), the end of
     *     the task and so of the job (ERROR), or nothing (SKIP)
     */
    public DecodePartition(DecodeSettings settings, StructType input, LatentColumns cols, InvalidRows invalid) {
        this(settings, cols, DecodeSchemas.decoded(input, settings.features() != null), input.length(), invalid,
                null, null, null, null, null, null);
    }

    private DecodePartition(DecodeSettings settings, LatentColumns cols, StructType output, int inputWidth,
            InvalidRows invalid, LongAccumulator decodedCount, LongAccumulator failedCount,
            LongAccumulator skippedCount, CollectionAccumulator<String> loads, LongAccumulator rowsCount,
            LongAccumulator sentCount) {
        this.settings = settings;
        this.cols = cols;
        this.output = output;
        this.inputWidth = inputWidth;
        this.invalid = invalid;
        this.decodedCount = decodedCount;
        this.failedCount = failedCount;
        this.skippedCount = skippedCount;
        this.loads = loads;
        this.rowsCount = rowsCount;
        this.sentCount = sentCount;
    }

    /** The schema of the rows this function emits. */
    public StructType outputSchema() {
        return output;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        DecoderModel model = ModelCache.get(settings, device -> {
            if (loads != null) {
                loads.add(device);
            }
        });
        BatchDecoder decoder = new BatchDecoder(model, sampler(model), settings.seed(), settings.metrics(),
                batching(model))
                .withFeatures(settings.features() == null ? null : ModelCache.features(settings))
                .withTraffic(t -> {
                    if (rowsCount != null) {
                        rowsCount.add(t.rows());
                        sentCount.add(t.sent());
                    }
                });
        org.mipflow.io.LatentSpec latent = model.latent();
        Iterator<BatchDecoder.Result<Row>> results = decoder.decode(rows, r -> {
            try {
                String rejected = rejection(r);
                if (rejected != null) {
                    throw new RowRejected(rejected);
                }
                return LatentRows.parse(r, cols, settings.limits(), latent);
            } catch (RowRejected e) {
                if (invalid == InvalidRows.ERROR) {
                    throw stop(r, e.getMessage()); // before the batch it would have waited for is decoded
                }
                throw e;
            }
        });
        return new Iterator<>() {
            private Row next;
            private long skipped;

            @Override
            public boolean hasNext() {
                while (next == null && hasMore()) {
                    next = output(results.next()); // null: a skipped row
                    if (next == null) {
                        skipped++;
                    }
                }
                if (next == null && skipped > 0) {
                    TaskContext tc = TaskContext.get();
                    LOG.info("handleInvalid=skip: dropped {} row(s) that could not be decoded in partition {}",
                            skipped, tc == null ? "?" : tc.partitionId());
                    skipped = 0;
                }
                return next != null;
            }

            private boolean hasMore() {
                try {
                    return results.hasNext();
                } catch (CallOutOfMemory e) {
                    throw outOfMemory(model, e);
                }
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Row r = next;
                next = null;
                return r;
            }
        };
    }

    /**
     * The plan of each task batch: the recipe's rule, the same on every executor, whose B this
     * executor's device must hold (its memory budget, when it has one: a GPU, or a set
     * --memory-budget); without a recipe (one JVM decoding alone), the device's own rule.
     */
    private Batching.Rule batching(DecoderModel model) {
        Recipe r = settings.recipe();
        if (r == null) {
            return Models.batchingRule(settings.batching(), model, TaskDevice.tasksPerGpu());
        }
        long budget = settings.batching().budget(Models.batchingDevice(model.device(), TaskDevice.tasksPerGpu()));
        int taskRows = settings.batching().taskRows();
        return (h, w) -> {
            long rowBytes = model.bytesPerRow(h, w);
            Batching.Plan p = r.rowsPerCall().plan(taskRows, h, w, rowBytes);
            if (budget > 0 && (long) p.callRows() * rowBytes > budget) {
                throw new CannotHonourRecipe(String.format(java.util.Locale.ROOT, "executor %s cannot hold %d rows "
                        + "per network call of %dx%d images (%.1f MiB a row, %d MiB in all) in its memory budget of "
                        + "%d MiB; set a smaller --rows-per-call or a larger --memory-budget",
                        ExecutorDevices.executorId(), p.callRows(), h, w, rowBytes / 1048576.0,
                        p.callRows() * rowBytes >> 20, budget >> 20));
            }
            return p;
        };
    }

    /**
     * Test seam: with the system property {@value #SIMULATE_OOM} = N, every batch whose network
     * calls carry more than N rows fails as libtorch does when CUDA runs out of memory.
     */
    static final String SIMULATE_OOM = "mipflow.test.oom-above-rows";

    private ImageSampler sampler(DecoderModel model) {
        Sampler real = new Sampler(model, settings.sampler());
        Integer limit = Integer.getInteger(SIMULATE_OOM);
        if (limit == null) {
            return real;
        }
        return new ImageSampler() {
            @Override
            public float[] decode(float[] z, int n, int zh, int zw, java.util.random.RandomGenerator[] rngs,
                    int rowsPerCall) {
                if (rowsPerCall > limit) {
                    throw new IllegalStateException("CUDA out of memory. Tried to allocate 2.00 GiB (simulated by -D"
                            + SIMULATE_OOM + "=" + limit + ")");
                }
                return real.decode(z, n, zh, zw, rngs, rowsPerCall);
            }

            @Override
            public int forwardPasses() {
                return real.forwardPasses();
            }
        };
    }

    /** The one line a task fails with when its network calls ran out of memory: B, the estimate, the budget, the options. */
    private CannotHonourRecipe outOfMemory(DecoderModel model, CallOutOfMemory e) {
        long budget = settings.batching().budget(Models.batchingDevice(model.device(), TaskDevice.tasksPerGpu()));
        long row = model.bytesPerRow(e.height(), e.width());
        return new CannotHonourRecipe(String.format(java.util.Locale.ROOT, "executor %s ran out of memory decoding "
                + "%d rows per network call (B) of %dx%d images: estimated %.1f MiB a row, %d MiB a call, memory "
                + "budget %s; set a smaller --rows-per-call, or a smaller --memory-budget if B was automatic",
                ExecutorDevices.executorId(), e.callRows(), e.height(), e.width(), row / 1048576.0,
                e.callRows() * row >> 20, budget > 0 ? (budget >> 20) + " MiB" : "none (CPU)"));
    }

    /** The output row, or null for a bad row under SKIP. */
    private Row output(BatchDecoder.Result<Row> r) {
        DecodedImage d = r.image();
        Row src = r.source();
        if (d.ok() && settings.pngDir() != null) {
            try {
                PngFiles.write(settings.pngDir(), d.id(), d.png());
            } catch (java.io.IOException e) {
                return error(src, "could not write PNG file: " + e.getMessage());
            }
        }
        return d.ok() ? image(src, d) : error(src, d.error());
    }

    private static String rejection(Row r) {
        int i = DecodeSchemas.has(r.schema(), DecodeSchemas.REJECT) ? r.fieldIndex(DecodeSchemas.REJECT) : -1;
        return i < 0 || r.isNullAt(i) ? null : r.getString(i);
    }

    private static void count(LongAccumulator a) {
        if (a != null) {
            a.add(1);
        }
    }

    /**
     * A copy that counts rows as they are emitted, for the driver's progress line and the Spark
     * UI. Updated inside a transformation, so a retried task may count twice: progress only, never
     * accounting.
     */
    public DecodePartition withProgress(LongAccumulator decoded, LongAccumulator failed) {
        return new DecodePartition(settings, cols, output, inputWidth, invalid, decoded, failed, skippedCount, loads,
                rowsCount, sentCount);
    }

    /**
     * A copy that counts the rows SKIP drops (a retried task may count twice, as for
     * {@link #withProgress}).
     */
    public DecodePartition withSkipCount(LongAccumulator skipped) {
        return new DecodePartition(settings, cols, output, inputWidth, invalid, decodedCount, failedCount, skipped,
                loads, rowsCount, sentCount);
    }

    /** A copy that records each model load (its device) across executors: one per executor JVM and device. */
    public DecodePartition withLoadRecord(CollectionAccumulator<String> loadRecord) {
        return new DecodePartition(settings, cols, output, inputWidth, invalid, decodedCount, failedCount,
                skippedCount, loadRecord, rowsCount, sentCount);
    }

    /**
     * A copy that adds, per sampled task batch, its rows and the rows its network calls carried
     * (padding included) per step. A retried task counts twice, as for {@link #withProgress}.
     */
    public DecodePartition withTraffic(LongAccumulator rows, LongAccumulator sent) {
        return new DecodePartition(settings, cols, output, inputWidth, invalid, decodedCount, failedCount,
                skippedCount, loads, rows, sent);
    }

    /** The input row's values, then room for the outputs, which are filled by name. */
    private Object[] values(Row src) {
        Object[] v = new Object[output.length()];
        for (int i = 0; i < inputWidth; i++) {
            v[i] = src.get(i);
        }
        return v;
    }

    private void set(Object[] v, String column, Object value) {
        v[output.fieldIndex(column)] = value;
    }

    private Row image(Row src, DecodedImage d) {
        Object[] v = values(src);
        set(v, "image", d.png());
        set(v, "width", d.width());
        set(v, "height", d.height());
        set(v, "mode", settings.sampler().mode().label());
        set(v, "forward_passes", d.forwardPasses());
        set(v, "decode_ms", d.decodeMs());
        for (Metric metric : Metric.values()) {
            set(v, metric.column(), d.metric(metric.column()));
        }
        if (d.features() != null) {
            set(v, DecodeSchemas.FEATURES, d.features().decoded());
            set(v, DecodeSchemas.REFERENCE_FEATURES, d.features().reference());
            set(v, DecodeSchemas.FEATURE_ERROR, d.features().error());
        }
        count(decodedCount);
        return RowFactory.create(v);
    }

    /** What ERROR throws for a bad row: the job's error names the row and the reason. */
    private InvalidRows.Stop stop(Row src, String message) {
        Object source = DecodeSchemas.has(src.schema(), DecodeSchemas.SOURCE_FILE)
                ? " of " + src.getAs(DecodeSchemas.SOURCE_FILE) : "";
        return new InvalidRows.Stop("row " + src.getAs(cols.id()) + source + ": " + message);
    }

    /** A bad row as {@link #invalid} says: an error row, a stop, or null (skipped). */
    private Row error(Row src, String message) {
        switch (invalid) {
            case ERROR:
                throw stop(src, message);
            case SKIP:
                count(skippedCount);
                return null;
            default:
                Object[] v = values(src);
                set(v, DecodeSchemas.ERROR, message);
                count(failedCount);
                return RowFactory.create(v);
        }
    }
}
