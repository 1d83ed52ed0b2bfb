package org.mipflow.jobs.train;

import java.util.ArrayList;
import java.util.List;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.UsageException;

/** {@code mipflow train}: trains the tokenizer encoder and the multi-stage teacher decoder. */
public final class TrainCommand implements Command {
    private static final TrainingOptions.Defaults DEFAULTS =
            new TrainingOptions.Defaults(null, 2400, "1.5e-3", 200, 20261126, 100);

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
        List<Options.Spec> s = new ArrayList<>(TrainingOptions.specs(DEFAULTS));
        s.add(Options.Spec.value("latent-channels", "C", null, "latent channels, 1 to 16 (default: the --init "
                + "model's, else 8); more than the --init model has grows its latent, the added channels reaching "
                + "the decoder through weights that start at zero"));
        s.add(Options.Spec.value("stages", "K", "3", "number of pyramid stages"));
        s.add(Options.Spec.value("init", "DIR", null, "start from this trained model's encoder and teacher (same "
                + "stages) with a new optimizer and schedule; without it, from the seed"));
        s.add(Options.Spec.value("ssim-weight", "X", "0", "weight of 1 - SSIM of the one-pass prediction of the "
                + "clean image, on the last stage and the full flow"));
        s.add(Options.Spec.value("encoder-blocks", "N", null, "residual blocks per encoder level (default: the "
                + "--init model's, else 1); more than the --init model has grows its encoder, the added blocks "
                + "starting as the identity"));
        s.add(Options.Spec.value("latent-levels", "N", null, "decoder levels the latent enters, 1 to 3 (default: "
                + "the --init model's, else 1); more than the --init model has grows its decoder, the added "
                + "entries starting at zero"));
        s.add(Options.Spec.value("decoder-widths", "W0,W1,W2", null, "decoder channels at full, 1/2 and 1/4 "
                + "resolution, each 8 to 512 (default: the --init model's, else 32,64,128); set from the seed, not "
                + "grown"));
        s.add(Options.Spec.flag("resume", "continue from OUT/checkpoint if it exists"));
        return s;
    }

    @Override
    public int run(Options o) throws Exception {
        TrainConfig tc = new TrainConfig(TrainingOptions.parse(o), o.optionalInt("latent-channels", 1, 16),
                o.getInt("stages", 1, 5), o.has("init") ? o.path("init") : null, o.getWeight("ssim-weight"),
                o.optionalInt("encoder-blocks", 1, 8), o.optionalInt("latent-levels", 1, 3),
                o.optionalInts("decoder-widths", 3, 8, 512));
        TeacherTrainer trainer = new TeacherTrainer(tc, System.out);
        try {
            trainer.checkInit();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        trainer.run(o.commandLine());
        return 0;
    }
}
