package org.mipflow.jobs;

import java.util.List;

/** Builds the decode-style options (mode, steps, stage-steps) that samplerConfig reads. */
final class EvalCommandOptions {
    private EvalCommandOptions() {}

    static Options of(Options o, String mode) throws UsageException {
        return Options.parse("eval", List.of(
                Options.Spec.value("mode", "M", mode, ""),
                Options.Spec.value("steps", "N", o.get("steps"), ""),
                Options.Spec.value("stage-steps", "N", o.get("stage-steps"), "")), new String[0]);
    }
}
