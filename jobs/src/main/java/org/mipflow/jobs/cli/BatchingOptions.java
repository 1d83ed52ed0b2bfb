package org.mipflow.jobs.cli;

import java.util.List;
import org.mipflow.model.DecoderModel;
import org.mipflow.model.Models;
import org.mipflow.sampling.Batching;

/**
 * {@code --batch-size}, {@code --rows-per-call}, {@code --memory-budget}: the command line of
 * {@link Batching}, where their rules are.
 */
public record BatchingOptions(Batching batching) {

    public static List<Options.Spec> specs() {
        return List.of(
                Options.Spec.value("batch-size", "N", "auto",
                        "rows per task batch: images sampled together through the schedule (speed and memory only, "
                                + "never bytes); auto: --rows-per-call"),
                Options.Spec.value("rows-per-call", "B", "auto",
                        "rows in every network call, the last one padded; an image's bytes depend on B; auto: the "
                                + "CPU's measured table by image size (" + Batching.describeCpuTable()
                                + "), on a GPU as many as --memory-budget holds"),
                Options.Spec.value("memory-budget", "MIB", "auto",
                        "memory one network call's rows may hold; caps an automatic B; auto: 40% of a GPU's memory "
                                + "shared by its tasks, no cap on a CPU"));
    }

    public static BatchingOptions parse(Options o) throws UsageException {
        return new BatchingOptions(new Batching(autoOr(o, "batch-size", 1 << 16), autoOr(o, "rows-per-call", 4096),
                (long) autoOr(o, "memory-budget", 1 << 24) << 20));
    }

    private static int autoOr(Options o, String name, int max) throws UsageException {
        return "auto".equals(o.get(name)) ? 0 : o.getInt(name, 1, max);
    }

    /** The plans of batches decoded by {@code model} outside Spark (one task on its device). */
    public Batching.Rule rule(DecoderModel model) {
        return Models.batchingRule(batching, model, 1);
    }

    /** The plan of h x w images decoded by {@code model} outside Spark. */
    public Batching.Plan plan(DecoderModel model, int h, int w) {
        return rule(model).forImage(h, w);
    }

    public String describe() {
        return batching.describe();
    }
}
