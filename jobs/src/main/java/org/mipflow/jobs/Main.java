package org.mipflow.jobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mipflow.jobs.audit.AuditCommand;
import org.mipflow.jobs.bench.BenchCommand;
import org.mipflow.jobs.bench.ScaleBenchCommand;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Interruption;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.RunLog;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.decode.DecodeCommand;
import org.mipflow.jobs.encode.EncodeCommand;
import org.mipflow.jobs.eval.EvalCommand;
import org.mipflow.jobs.train.DistillCommand;
import org.mipflow.jobs.train.TrainCommand;
import org.mipflow.model.ModelFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of {@code bin/mipflow} and of {@code spark-submit --class org.mipflow.jobs.Main}:
 * dispatches to one {@link Command}. The commands live in one package each (cli, decode, encode,
 * train, eval, bench, audit).
 */
public final class Main {
    private Main() {}

    static Map<String, Command> commands() {
        Map<String, Command> m = new LinkedHashMap<>();
        for (Command c : List.<Command>of(new DecodeCommand(), new EncodeCommand(), new TrainCommand(),
                new DistillCommand(), new EvalCommand(), new BenchCommand(), new ScaleBenchCommand(), new AuditCommand())) {
            m.put(c.name(), c);
        }
        return m;
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String[] args) {
        Map<String, Command> cmds = commands();
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            System.out.print(overview(cmds.values()));
            return args.length == 0 ? 2 : 0;
        }
        Command c = cmds.get(args[0]);
        if (c == null) {
            System.err.println("mipflow: unknown command '" + args[0] + "' (try 'mipflow --help')");
            return 2;
        }
        String[] rest = Arrays.copyOfRange(args, 1, args.length);
        if (Arrays.asList(rest).contains("--help")) {
            System.out.print(Options.help(c.name(), c.summary(), c.options()));
            return 0;
        }
        try {
            Options o = Options.parse(c.name(), c.options(), rest);
            Interruption.arm(c.name(), resumeLine(c, o));
            try {
                return c.run(o);
            } finally {
                Interruption.disarm();
            }
        } catch (UsageException | ModelFormatException e) {
            if (Interruption.happened()) {
                return INTERRUPTED;
            }
            System.err.println("mipflow " + c.name() + ": error: " + e.getMessage());
            return 2;
        } catch (Exception | LinkageError | OutOfMemoryError e) {
            if (Interruption.happened()) {
                return INTERRUPTED;
            }
            LOG.error("mipflow " + c.name() + " failed", e);
            System.err.println("mipflow " + c.name() + ": failed: " + reason(e) + "; the details are in "
                    + RunLog.where());
            if (System.getenv("MIPFLOW_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }

    /** 128 + SIGINT, as a shell reports a command Ctrl-C ended. */
    static final int INTERRUPTED = 130;

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    /** The command line that goes on after an interruption: the same, with --resume (never --overwrite). */
    static String resumeLine(Command c, Options o) {
        if (c.options().stream().noneMatch(s -> s.name().equals("resume"))) {
            return null;
        }
        List<String> words = new ArrayList<>(Arrays.asList(o.commandLine().split(" ")));
        words.remove("--overwrite");
        if (!words.contains("--resume")) {
            words.add("--resume");
        }
        return String.join(" ", words);
    }

    /**
     * A failure in words, without Java's: the innermost message that says something (Spark wraps
     * a task's exception in its own), first line only, class-name prefixes dropped.
     */
    static String reason(Throwable e) {
        String best = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank()) {
                best = m;
            }
        }
        if (best == null) {
            return "an internal error";
        }
        String line = best.strip().lines().findFirst().orElse("");
        String prev;
        do {
            prev = line;
            line = line.replaceFirst("^(?:[a-z_$][\\w$]*\\.)+[A-Z][\\w$]*(?:Exception|Error)?:\\s*", "");
        } while (!line.equals(prev));
        return line.isBlank() ? "an internal error" : line;
    }

    /** {@code mipflow --help}: every command with the whole first sentence of its summary, wrapped. */
    static String overview(java.util.Collection<Command> cmds) {
        StringBuilder sb = new StringBuilder("usage: mipflow <command> [options]\n\ncommands:\n");
        for (Command c : cmds) {
            String text = c.summary().replaceAll("\\s+", " ").strip();
            String first = text.split("(?<=\\.)\\s(?=[A-Z(`'])", 2)[0];
            sb.append("  ").append(Options.wrap(String.format(java.util.Locale.ROOT, "%-12s %s", c.name(), first), 15));
        }
        return sb.append("\n'mipflow <command> --help' describes a command's options.\n").toString();
    }
}
