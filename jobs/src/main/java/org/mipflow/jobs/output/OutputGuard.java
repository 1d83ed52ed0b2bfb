package org.mipflow.jobs.output;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.mipflow.jobs.cli.UsageException;

/**
 * The output rules of every command that writes a directory, in their order: input and output
 * apart ({@link InputOutputCheck}), one run per output ({@link OutputLease}), no silent
 * replacement ({@link OutputDir#check}); and {@code --overwrite}'s removal only once the plan is
 * valid ({@link #planIsValid}).
 */
public final class OutputGuard implements AutoCloseable {
    private final OutputDir dir;
    private final OutputLease lease;
    private final WritePolicy policy;

    private OutputGuard(OutputDir dir, OutputLease lease, WritePolicy policy) {
        this.dir = dir;
        this.lease = lease;
        this.policy = policy;
    }

    /**
     * Checks the paths, takes the lease and refuses a {@link WritePolicy#FRESH} run over an earlier
     * run's output; writes nothing but the lease.
     *
     * @param inputs what the run reads (may be empty)
     */
    public static OutputGuard open(String command, String out, List<String> inputs, WritePolicy policy,
            OutputDir.Layout layout, Configuration conf) throws UsageException, IOException {
        InputOutputCheck.check(inputs, out, conf);
        OutputDir dir = new OutputDir(out, layout, conf);
        OutputLease lease = OutputLease.acquire(out, command, conf, OutputLease.Timing.current(), System.out);
        try {
            dir.check(policy);
        } catch (UsageException | IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
        return new OutputGuard(dir, lease, policy);
    }

    /** For the commands that write a local directory through java.nio (eval, audit, bench, train). */
    public static OutputGuard openLocal(String command, java.nio.file.Path out, List<java.nio.file.Path> reads,
            WritePolicy policy, OutputDir.Layout layout) throws UsageException, IOException {
        return open(command, uri(out), reads.stream().map(OutputGuard::uri).toList(), policy, layout,
                new Configuration());
    }

    private static String uri(java.nio.file.Path p) {
        return p.toAbsolutePath().normalize().toUri().toString();
    }

    /**
     * The new run's options, model and inputs are known to be good: with {@code --overwrite} the
     * earlier run's entries are removed now, not before, so a mistake in another option deletes
     * nothing.
     */
    public void planIsValid() throws IOException {
        if (policy == WritePolicy.OVERWRITE) {
            lease.checkHeld();
            int n = dir.clear();
            if (n > 0) {
                System.out.println("overwrite: removed " + n + " entr" + (n == 1 ? "y" : "ies") + " an earlier run "
                        + "wrote under " + dir.shown() + " (other files there are kept)");
            }
        }
    }

    /** Throws unless this run still holds the output's lease (see {@link OutputLease#checkHeld}). */
    public void checkHeld() throws IOException {
        lease.checkHeld();
    }

    public WritePolicy policy() {
        return policy;
    }

    @Override
    public void close() {
        lease.close();
    }
}
