package org.mipflow.jobs.cli;

import java.util.List;
import org.mipflow.model.BatchBudget;
import org.mipflow.model.DecoderModel;
import org.mipflow.sampling.BatchDecoder;

/**
 * {@code --batch-size}, {@code --memory-budget}: how many rows are decoded together.
 *
 * @param fixed rows per batch, or 0 for "auto": as many as fit {@code budget} at each batch's image size
 */
public record BatchingOptions(int fixed, BatchBudget budget) {

    public static List<Options.Spec> specs(String defaultBatch) {
        return List.of(
                Options.Spec.value("batch-size", "N", defaultBatch,
                        "rows decoded together; auto: as many as fit --memory-budget at each batch's image size"),
                Options.Spec.value("memory-budget", "MIB", Long.toString(BatchBudget.CPU_DEFAULT_BYTES >> 20),
                        "working set of one task's forward pass that auto batches stay within (CPU: cache-sized)"));
    }

    public static BatchingOptions parse(Options o) throws UsageException {
        int fixed = "auto".equals(o.get("batch-size")) ? 0 : o.getInt("batch-size", 1, 1024);
        return new BatchingOptions(fixed,
                new BatchBudget((long) o.getInt("memory-budget", 1, 1 << 20) << 20, BatchBudget.DEFAULT_MAX_BATCH));
    }

    /** Rows per batch of h x w images decoded by {@code model}. */
    public int rows(DecoderModel model, int h, int w) {
        return budget.batchFor(fixed, model.bytesPerImage(h, w));
    }

    /** The same rule as the loop's batch size. */
    public BatchDecoder.BatchRows rowsFor(DecoderModel model) {
        return (h, w) -> rows(model, h, w);
    }

    /** "8", or "auto (64 MiB working set)". */
    public String describe() {
        return fixed > 0 ? Integer.toString(fixed) : "auto (" + (budget.bytes() >> 20) + " MiB working set)";
    }

    /** "8" or "auto", for JSON records. */
    public String label() {
        return fixed > 0 ? Integer.toString(fixed) : "auto";
    }
}
