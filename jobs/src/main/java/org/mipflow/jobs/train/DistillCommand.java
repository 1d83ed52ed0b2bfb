package org.mipflow.jobs;

import java.nio.file.Path;
import java.util.List;
import org.mipflow.jobs.train.DistillConfig;
import org.mipflow.jobs.train.StudentDistiller;

/** {@code mipflow distill}: trains the one-step student of every stage from the teacher. */
public final class DistillCommand implements Command {
    @Override
    public String name() {
        return "distill";
    }

    @Override
    public String summary() {
        return "Distills a one-step-per-stage student from the teacher in --teacher and writes a model with\n"
                + "encoder, teacher and student to --out (which may be the same directory). Checkpoints go to\n"
                + "OUT/checkpoint-distill; --resume continues from there.";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                Options.Spec.value("photos", "DIR", "data/photos", "directory filled by scripts/fetch-photos.sh"),
                Options.Spec.value("list", "FILE", "data/lists/photos-train.lst", "training photo list"),
                Options.Spec.value("teacher", "DIR", "models/default", "model with the trained teacher"),
                Options.Spec.value("out", "DIR", "models/default", "model directory to write"),
                Options.Spec.value("steps", "N", "150", "optimizer steps"),
                Options.Spec.value("batch", "N", "16", "crops per step"),
                Options.Spec.value("crop", "PX", "64", "crop side, a multiple of 64"),
                Options.Spec.value("lr", "X", "3e-4", "peak Adam learning rate"),
                Options.Spec.value("warmup", "N", "40", "linear warm-up steps"),
                Options.Spec.value("seed", "N", "20261127", "seed for the data order and noise"),
                Options.Spec.value("checkpoint-every", "N", "50", "steps between checkpoints"),
                Options.Spec.value("threads", "N", Integer.toString(Runtime.getRuntime().availableProcessors()),
                        "libtorch intra-op threads"),
                Options.Spec.value("teacher-steps", "N", "10", "teacher Euler steps per stage for the targets"),
                Options.Spec.value("gt-weight", "X", "0.25", "weight of the last stage's distance to the clean image"),
                Options.Spec.flag("resume", "continue from OUT/checkpoint-distill if it exists"));
    }

    @Override
    public int run(Options o) throws Exception {
        Path photos = TrainCommand.photoDir(o);
        Path list = TrainCommand.photoList(o);
        int crop = o.getInt("crop", 64, 1024);
        if (crop % 64 != 0) {
            throw new UsageException("--crop must be a multiple of 64");
        }
        DistillConfig dc = new DistillConfig(photos, list, o.path("teacher"), o.path("out"), o.getInt("steps", 1, 10_000_000),
                o.getInt("batch", 1, 4096), crop, o.getDouble("lr"), o.getInt("warmup", 1, 1_000_000), o.getLong("seed"),
                o.getInt("checkpoint-every", 1, 10_000_000), o.getInt("threads", 1, 1024),
                o.getInt("teacher-steps", 1, 1000), o.getDouble("gt-weight"), o.flag("resume"));
        new StudentDistiller(dc, System.out).run(Main.commandLine());
        return 0;
    }
}
