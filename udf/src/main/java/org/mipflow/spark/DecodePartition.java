package org.mipflow.spark;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.mipflow.io.LatentRow;
import org.mipflow.model.DecoderModel;
import org.mipflow.sampling.BatchDecoder;
import org.mipflow.sampling.DecodedImage;

/**
 * Decodes one partition: validates each row, batches consecutive good rows of one latent shape,
 * and emits one output row per input row, either an image or an error (never neither, never
 * both), lazily, batch by batch.
 */
public final class DecodePartition implements MapPartitionsFunction<Row, Row> {
    private final DecodeSettings settings;
    private final StructType input;
    private final int[] passIdx;
    private final HashMap<String, Long> duplicates;
    private final boolean failFast;
    private LongAccumulator decodedCount;
    private LongAccumulator failedCount;
    private CollectionAccumulator<String> loads;

    /**
     * @param duplicates ids that occur more than once in the whole input, with their counts: all
     *     their rows go to errors, since no row of them can be told to be the right one
     * @param failFast throw at the first bad row instead of reporting it
     */
    public DecodePartition(DecodeSettings settings, StructType input, HashMap<String, Long> duplicates,
            boolean failFast) {
        this.settings = settings;
        this.input = input;
        this.duplicates = duplicates;
        this.failFast = failFast;
        List<Integer> idx = new ArrayList<>();
        for (var f : DecodeSchemas.passThrough(input)) {
            idx.add(input.fieldIndex(f.name()));
        }
        this.passIdx = idx.stream().mapToInt(Integer::intValue).toArray();
    }

    private int batchFor(DecoderModel model, LatentRow first) {
        return settings.batchFor(model, first.height() * model.downsample(), first.width() * model.downsample());
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        DecoderModel model = ModelCache.get(settings, device -> {
            if (loads != null) {
                loads.add(device);
            }
        });
        BatchDecoder decoder = new BatchDecoder(model, settings.sampler(), settings.seed(), settings.metrics());
        int sideMultiple = model.latentSideMultiple();
        boolean injectFault = injectedFault();
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private int batches;
            private Row carried;
            private LatentRow carriedLatent;

            @Override
            public boolean hasNext() {
                while (ready.isEmpty() && (rows.hasNext() || carried != null)) {
                    fill();
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void fill() {
                if (injectFault && ++batches == 2) {
                    throw new IllegalStateException("injected task fault (spark.mipflow.test.taskFaultRate)");
                }
                List<Row> batchRows = new ArrayList<>();
                List<LatentRow> batch = new ArrayList<>();
                if (carried != null) {
                    batchRows.add(carried);
                    batch.add(carriedLatent);
                    carried = null;
                }
                // A batch holds one latent shape, so its first row decides its size.
                while ((batch.isEmpty() || batch.size() < batchFor(model, batch.get(0))) && rows.hasNext()) {
                    Row r = rows.next();
                    LatentRow lr;
                    try {
                        lr = LatentRows.parse(r, settings.limits(), model.latentChannels(), sideMultiple,
                                model.downsample());
                    } catch (LatentRows.BadRow e) {
                        ready.add(error(r, e.getMessage()));
                        count(false);
                        continue;
                    }
                    Long copies = duplicates.get(lr.id());
                    if (copies != null) {
                        ready.add(error(r, "id occurs " + copies + " times in the input"));
                        count(false);
                        continue;
                    }
                    if (!batch.isEmpty() && !sameShape(batch.get(0), lr)) {
                        carried = r;
                        carriedLatent = lr;
                        break;
                    }
                    batchRows.add(r);
                    batch.add(lr);
                }
                List<DecodedImage> out = decoder.decode(batch);
                for (int i = 0; i < out.size(); i++) {
                    DecodedImage d = out.get(i);
                    Row src = batchRows.get(i);
                    if (d.ok() && settings.pngDir() != null) {
                        try {
                            PngFiles.write(settings.pngDir(), d.id(), d.png());
                        } catch (java.io.IOException e) {
                            ready.add(error(src, "could not write PNG file: " + e.getMessage()));
                            count(false);
                            continue;
                        }
                    }
                    ready.add(d.ok() ? image(src, d) : error(src, d.error()));
                    count(d.ok());
                }
            }
        };
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
     * batch, so that tests can check that Spark's retries lose and duplicate nothing.
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

    private static boolean sameShape(LatentRow a, LatentRow b) {
        return a.channels() == b.channels() && a.height() == b.height() && a.width() == b.width();
    }

    private Object[] pass(Row r, int extra) {
        Object[] v = new Object[passIdx.length + extra];
        for (int i = 0; i < passIdx.length; i++) {
            v[i] = r.get(passIdx[i]);
        }
        return v;
    }

    private Row image(Row src, DecodedImage d) {
        Object[] v = pass(src, 13);
        int k = passIdx.length;
        v[k] = d.id();
        v[k + 1] = d.png();
        v[k + 2] = d.width();
        v[k + 3] = d.height();
        v[k + 4] = settings.sampler().mode().label();
        v[k + 5] = d.forwardPasses();
        v[k + 6] = d.decodeMs();
        v[k + 7] = d.metric("psnr");
        v[k + 8] = d.metric("ssim");
        v[k + 9] = d.metric("ms_ssim");
        v[k + 10] = d.metric("haarpsi");
        v[k + 11] = src.getAs(DecodeSchemas.SOURCE_FILE);
        v[k + 12] = null;
        return RowFactory.create(v);
    }

    private Row error(Row src, String message) {
        if (failFast) {
            throw new IllegalStateException("--fail-fast: row " + src.get(input.fieldIndex(DecodeSchemas.ID)) + " of "
                    + src.getAs(DecodeSchemas.SOURCE_FILE) + ": " + message);
        }
        Object[] v = pass(src, 13);
        int k = passIdx.length;
        Object id = src.get(input.fieldIndex(DecodeSchemas.ID));
        v[k] = id;
        v[k + 11] = src.getAs(DecodeSchemas.SOURCE_FILE);
        v[k + 12] = message;
        return RowFactory.create(v);
    }
}
