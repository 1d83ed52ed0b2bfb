package org.mipflow.jobs.cli;

import java.util.List;
import org.mipflow.model.NumericPath;

/** {@code --precision}, {@code --layout}: how the decoder network computes. */
public record NumericsOptions(NumericPath.Request request) {

    public static List<Options.Spec> specs() {
        return List.of(
                Options.Spec.value("precision", "P", "auto",
                        "fp32 | bf16 | auto (bf16 where the executor's CPU or GPU computes it natively, unless --layout nchw)"),
                Options.Spec.value("layout", "L", "auto",
                        "nchw | nhwc (channels-last) | auto (nhwc with bf16, which runs channels-last only)"));
    }

    /** Refuses combinations that no device can run (see {@link NumericPath.Request#checkedForAnyDevice}). */
    public static NumericsOptions parse(Options o) throws UsageException {
        try {
            return new NumericsOptions(new NumericPath.Request(o.get("precision"), o.get("layout")).checkedForAnyDevice());
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
