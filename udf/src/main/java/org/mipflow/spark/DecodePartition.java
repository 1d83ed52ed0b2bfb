package org.mipflow.spark;

import java.util.Iterator;
import org.apache.spark.SparkEnv;
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
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.DecodedImage;
import org.mipflow.sampling.Sampler;

/**
 * Decodes one partition, the one path rows take whoever asks (the decode command, the
 * {@link LatentDecoder} Transformer, bench): parses and validates each row into the
 * {@link BatchDecoder} loop and emits each input row once, with the {@link DecodeSchemas#OUTPUT}
 * columns appended: an image, or {@code error} set (never neither, never both), lazily, batch by
 * batch.
 */
public final class DecodePartition implements MapPartitionsFunction<Row, Row> {
    private final DecodeSettings settings;
    private final LatentColumns cols;
    private final StructType output;
    private final int inputWidth;
    private final boolean failFast;
    private LongAccumulator decodedCount;
    private LongAccumulator failedCount;
    private CollectionAccumulator<String> loads;

    /**
     * @param input the schema of the rows this function gets (checked by {@link DecodeSchemas#problems})
     * @param failFast throw at the first bad row instead of reporting it
     */
    public DecodePartition(DecodeSettings settings, StructType input, LatentColumns cols, boolean failFast) {
        this.settings = settings;
        this.cols = cols;
        this.output = DecodeSchemas.decoded(input, settings.features() != null);
        this.inputWidth = input.length();
        this.failFast = failFast;
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
        BatchDecoder decoder = new BatchDecoder(model, new Sampler(model, settings.sampler()), settings.seed(),
                settings.metrics(), (h, w) -> settings.batchFor(model, h, w))
                .withFeatures(settings.features() == null ? null : ModelCache.features(settings));
        org.mipflow.io.LatentSpec latent = model.latent();
        Iterator<BatchDecoder.Result<Row>> results = decoder.decode(rows, r -> {
            try {
                String rejected = rejection(r);
                if (rejected != null) {
                    throw new RowRejected(rejected);
                }
                return LatentRows.parse(r, cols, settings.limits(), latent);
            } catch (RowRejected e) {
                if (failFast) {
                    throw stop(r, e.getMessage()); // before the batch it would have waited for is decoded
                }
                throw e;
            }
        });
        boolean injectFault = injectedFault();
        return new Iterator<>() {
            private int emitted;

            @Override
            public boolean hasNext() {
                return results.hasNext();
            }

            @Override
            public Row next() {
                if (injectFault && ++emitted == 2) {
                    throw new IllegalStateException("injected task fault (spark.mipflow.test.taskFaultRate)");
                }
                return output(results.next());
            }
        };
    }

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

    private void count(boolean ok) {
        LongAccumulator a = ok ? decodedCount : failedCount;
        if (a != null) {
            a.add(1);
        }
    }

    /**
     * Test-only fault injection: with spark.mipflow.test.taskFaultRate = r, a fraction r of the
     * partitions (chosen by partition id) fail once, on their first attempt, after emitting one
     * row, so that tests can check that Spark's retries lose and duplicate nothing.
     */
    private static boolean injectedFault() {
        TaskContext tc = TaskContext.get();
        SparkEnv env = SparkEnv.get();
        if (tc == null || env == null || tc.attemptNumber() > 0) {
            return false;
        }
        double rate = env.conf().getDouble("spark.mipflow.test.taskFaultRate", 0);
        return rate > 0 && ((tc.partitionId() * 2654435761L) % 1000) / 1000.0 < rate;
    }

    /**
     * Counts rows as they are emitted, for the driver's progress line and the Spark UI. Updated
     * inside a transformation, so a retried task may count twice: progress only, never accounting.
     */
    public DecodePartition withProgress(LongAccumulator decoded, LongAccumulator failed) {
        this.decodedCount = decoded;
        this.failedCount = failed;
        return this;
    }

    /** Records each model load (its device) across executors: one per executor JVM and device. */
    public DecodePartition withLoadRecord(CollectionAccumulator<String> loads) {
        this.loads = loads;
        return this;
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
        count(true);
        return RowFactory.create(v);
    }

    /** What --fail-fast throws for a bad row: the job's error names the row and the reason. */
    private IllegalStateException stop(Row src, String message) {
        Object source = DecodeSchemas.has(src.schema(), DecodeSchemas.SOURCE_FILE)
                ? " of " + src.getAs(DecodeSchemas.SOURCE_FILE) : "";
        return new IllegalStateException("--fail-fast: row " + src.getAs(cols.id()) + source + ": " + message);
    }

    private Row error(Row src, String message) {
        if (failFast) {
            throw stop(src, message);
        }
        Object[] v = values(src);
        set(v, DecodeSchemas.ERROR, message);
        count(false);
        return RowFactory.create(v);
    }
}
