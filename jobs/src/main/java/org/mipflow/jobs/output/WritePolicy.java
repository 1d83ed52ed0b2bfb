package org.mipflow.jobs.output;

import org.mipflow.jobs.cli.UsageException;

/** What a run does with an {@code --out} that already holds an earlier run's output. */
public enum WritePolicy {
    /** Nothing of an earlier run may be there: the run refuses rather than replace it. */
    FRESH,
    /** Go on with what an earlier run committed there (--resume). */
    RESUME,
    /** Start over: what Mipflow wrote there is removed once the new run's plan is valid (--overwrite). */
    OVERWRITE;

    public static WritePolicy of(boolean resume, boolean overwrite) throws UsageException {
        if (resume && overwrite) {
            throw new UsageException("--resume (go on with the earlier output) and --overwrite (replace it) "
                    + "exclude each other");
        }
        return resume ? RESUME : overwrite ? OVERWRITE : FRESH;
    }
}
