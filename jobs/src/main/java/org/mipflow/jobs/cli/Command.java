package org.mipflow.jobs.cli;

import java.util.List;

/** One subcommand of {@code bin/mipflow}. */
public interface Command {
    String name();

    String summary();

    List<Options.Spec> options();

    /** Runs with parsed options; returns the process exit code. */
    int run(Options o) throws Exception;
}
