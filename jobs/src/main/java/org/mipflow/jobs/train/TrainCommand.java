package org.mipflow.jobs;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.mipflow.jobs.train.TeacherTrainer;
import org.mipflow.jobs.train.TrainConfig;

/** {@code mipflow train}: trains the tokenizer encoder and the multi-stage teacher decoder. */
public final class TrainCommand implements Command {
    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "Trains the encoder and the flow-matching teacher decoder jointly on the training photos\n"
                + "(list data/lists/photos-train.lst, photos fetched by scripts/fetch-photos.sh). Writes checkpoints\n"
                + "every --checkpoint-every steps to OUT/checkpoint; --resume continues from there.";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                Options.Spec.value("photos", "DIR", "data/photos", "directory filled by scripts/fetch-photos.sh"),
                Options.Spec.value("list", "FILE", "data/lists/photos-train.lst", "training photo list"),
                Options.Spec.value("out", "DIR", null, "model directory to write"),
                Options.Spec.value("steps", "N", "2400", "optimizer steps"),
                Options.Spec.value("batch", "N", "16", "crops per step (each is used in every stage)"),
                Options.Spec.value("crop", "PX", "64", "training crop side, a multiple of 64"),
                Options.Spec.value("lr", "X", "1.5e-3", "peak Adam learning rate"),
                Options.Spec.value("warmup", "N", "200", "linear warm-up steps"),
                Options.Spec.value("seed", "N", "20261126", "seed for weights and data order"),
                Options.Spec.value("checkpoint-every", "N", "100", "steps between checkpoints"),
                Options.Spec.value("threads", "N", Integer.toString(Runtime.getRuntime().availableProcessors()),
                        "libtorch intra-op threads"),
                Options.Spec.value("latent-channels", "C", "8", "latent channels"),
                Options.Spec.value("stages", "K", "3", "number of pyramid stages"),
                Options.Spec.flag("resume", "continue from OUT/checkpoint if it exists"));
    }

    /** --photos, which scripts/fetch-photos.sh must have filled. */
    static Path photoDir(Options o) throws UsageException {
        Path photos = o.path("photos");
        if (!Files.isDirectory(photos)) {
            throw new UsageException("photo directory " + photos + " does not exist; run scripts/fetch-photos.sh first");
        }
        return photos;
    }

    static Path photoList(Options o) throws UsageException {
        Path list = o.path("list");
        if (!Files.isReadable(list)) {
            throw new UsageException("photo list " + list + " cannot be read");
        }
        return list;
    }

    @Override
    public int run(Options o) throws Exception {
        Path photos = photoDir(o);
        Path list = photoList(o);
        TrainConfig tc = new TrainConfig(photos, list, o.path("out"), o.getInt("steps", 1, 10_000_000),
                o.getInt("batch", 1, 4096), o.getInt("crop", 64, 1024), o.getDouble("lr"), o.getInt("warmup", 1, 1_000_000),
                o.getLong("seed"), o.getInt("checkpoint-every", 1, 10_000_000), o.getInt("threads", 1, 1024),
                o.getInt("latent-channels", 1, 8), o.getInt("stages", 1, 5), o.flag("resume"));
        new TeacherTrainer(tc, System.out).run(Main.commandLine());
        return 0;
    }
}
