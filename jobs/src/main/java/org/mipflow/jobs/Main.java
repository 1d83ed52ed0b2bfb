package org.mipflow.jobs;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.mipflow.jobs.audit.AuditCommand;
import org.mipflow.jobs.bench.BenchCommand;
import org.mipflow.jobs.bench.ScaleBenchCommand;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;
import org.mipflow.jobs.cli.UsageException;
import org.mipflow.jobs.decode.DecodeCommand;
import org.mipflow.jobs.encode.EncodeCommand;
import org.mipflow.jobs.eval.EvalCommand;
import org.mipflow.jobs.train.DistillCommand;
import org.mipflow.jobs.train.TrainCommand;

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
            System.out.println("usage: mipflow <command> [options]\n\ncommands:");
            cmds.values().forEach(c -> System.out.printf("  %-10s %s%n", c.name(), c.summary().lines().findFirst().orElse("")));
            System.out.println("\n'mipflow <command> --help' describes a command's options.");
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
            return c.run(Options.parse(c.name(), c.options(), rest));
        } catch (UsageException e) {
            System.err.println("mipflow " + c.name() + ": error: " + e.getMessage());
            return 2;
        } catch (org.mipflow.model.ModelFormatException e) {
            System.err.println("mipflow " + c.name() + ": error: " + e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("mipflow " + c.name() + ": failed: " + e);
            if (System.getenv("MIPFLOW_DEBUG") != null) {
                e.printStackTrace();
            }
            return 1;
        }
    }
}
