package org.mipflow.jobs.train;

import java.util.ArrayList;
import java.util.List;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.PhotoOptions;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.output.WritePolicy;

/** The options {@code train} and {@code distill} share, with each command's defaults. */
final class TrainingOptions {
    private TrainingOptions() {}

    /** Defaults of one command. {@code out} null: --out is required. */
    record Defaults(String out, int steps, String lr, int warmup, long seed, int checkpointEvery) {}

    static List<Options.Spec> specs(Defaults d) {
        List<Options.Spec> s = new ArrayList<>(PhotoOptions.specs(PhotoOptions.TRAIN_LIST, "training photo list"));
        s.add(Options.Spec.value("out", "DIR", d.out(), "model directory to write"));
        s.add(Options.Spec.value("steps", "N", Integer.toString(d.steps()), "optimizer steps"));
        s.add(Options.Spec.value("batch", "N", "16", "crops per step"));
        s.add(Options.Spec.value("crop", "PX", "64", "training crop side, a multiple of 64"));
        s.add(Options.Spec.value("lr", "X", d.lr(), "peak Adam learning rate"));
        s.add(Options.Spec.value("warmup", "N", Integer.toString(d.warmup()), "linear warm-up steps"));
        s.add(Options.Spec.value("seed", "N", Long.toString(d.seed()), "seed for weights, data order and noise"));
        s.add(Options.Spec.value("checkpoint-every", "N", Integer.toString(d.checkpointEvery()),
                "steps between checkpoints"));
        s.add(Options.Spec.value("threads", "N", Integer.toString(Runtime.getRuntime().availableProcessors()),
                "libtorch intra-op threads"));
        s.add(Options.Spec.flag("overwrite", "replace the model and checkpoints in --out (other files stay); "
                + "without --resume or --overwrite an --out that holds them is refused"));
        return s;
    }

    static TrainingSettings parse(Options o) throws UsageException {
        PhotoOptions photos = PhotoOptions.parse(o);
        try {
            return new TrainingSettings(photos.photos(), photos.list(), o.path("out"), o.getInt("steps", 1, 10_000_000),
                    o.getInt("batch", 1, 4096), o.getInt("crop", 64, 1024), o.getDouble("lr"),
                    o.getInt("warmup", 1, 1_000_000), o.getLong("seed"), o.getInt("checkpoint-every", 1, 10_000_000),
                    o.getInt("threads", 1, 1024), WritePolicy.of(o.flag("resume"), o.flag("overwrite")));
        } catch (IllegalArgumentException e) {
            // The settings check themselves (a crop the pyramid cannot split); the command line gets the reason.
            throw new UsageException(e.getMessage());
        }
    }
}
