package org.mipflow.jobs.train;

import java.util.ArrayList;
import java.util.List;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;

/** {@code mipflow distill}: trains the one-step student of every stage from the teacher. */
public final class DistillCommand implements Command {
    private static final TrainingOptions.Defaults DEFAULTS =
            new TrainingOptions.Defaults("models/default", 150, "3e-4", 40, 20261127, 50);

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
        List<Options.Spec> s = new ArrayList<>(TrainingOptions.specs(DEFAULTS));
        s.add(2, Options.Spec.value("teacher", "DIR", "models/default", "model with the trained teacher"));
        s.add(Options.Spec.value("teacher-steps", "N", "10", "teacher Euler steps per stage for the targets"));
        s.add(Options.Spec.value("gt-weight", "X", "0.25", "weight of the last stage's distance to the clean image"));
        s.add(Options.Spec.value("ssim-weight", "X", "0", "weight of the last stage's 1 - SSIM to the clean image"));
        s.add(Options.Spec.flag("resume", "continue from OUT/checkpoint-distill if it exists"));
        return s;
    }

    @Override
    public int run(Options o) throws Exception {
        DistillConfig dc = new DistillConfig(TrainingOptions.parse(o), o.path("teacher"),
                o.getInt("teacher-steps", 1, 1000), o.getWeight("gt-weight"),
                o.getWeight("ssim-weight"));
        new StudentDistiller(dc, System.out).run(o.commandLine());
        return 0;
    }
}
