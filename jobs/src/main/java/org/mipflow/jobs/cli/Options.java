package org.mipflow.jobs.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Minimal GNU-style option parsing: {@code --name value}, {@code --name=value} and flags. */
public final class Options {

    /** One option; {@code arg} is null for a flag. */
    public record Spec(String name, String arg, String defaultValue, String help) {
        public static Spec flag(String name, String help) {
            return new Spec(name, null, null, help);
        }

        public static Spec value(String name, String arg, String defaultValue, String help) {
            return new Spec(name, arg, defaultValue, help);
        }
    }

    private final String command;
    private final Map<String, String> values;
    private final String commandLine;

    private Options(String command, Map<String, String> values, String commandLine) {
        this.command = command;
        this.values = values;
        this.commandLine = commandLine;
    }

    public static Options parse(String command, List<Spec> specs, String[] args) throws UsageException {
        Map<String, Spec> byName = new LinkedHashMap<>();
        specs.forEach(s -> byName.put(s.name(), s));
        Map<String, String> values = new LinkedHashMap<>();
        for (Spec s : specs) {
            if (s.defaultValue() != null) {
                values.put(s.name(), s.defaultValue());
            }
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new UsageException("unexpected argument '" + a + "' (options start with --; see --help)");
            }
            String name = a.substring(2);
            String inline = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inline = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            Spec s = byName.get(name);
            if (s == null) {
                throw new UsageException("unknown option --" + name + " (see 'mipflow " + command + " --help')");
            }
            if (s.arg() == null) {
                if (inline != null) {
                    throw new UsageException("--" + name + " takes no value");
                }
                values.put(name, "true");
            } else if (inline != null) {
                values.put(name, inline);
            } else {
                if (i + 1 >= args.length) {
                    throw new UsageException("--" + name + " needs a value " + s.arg());
                }
                values.put(name, args[++i]);
            }
        }
        return new Options(command, values, "bin/mipflow " + command + (args.length == 0 ? "" : " " + String.join(" ", args)));
    }

    public static String help(String command, String summary, List<Spec> specs) {
        StringBuilder sb = new StringBuilder();
        sb.append("usage: mipflow ").append(command).append(" [options]\n\n").append(summary).append("\n\noptions:\n");
        for (Spec s : specs) {
            String left = "  --" + s.name() + (s.arg() == null ? "" : " " + s.arg());
            sb.append(String.format(Locale.ROOT, "%-28s %s", left, s.help()));
            if (s.defaultValue() != null) {
                sb.append(" (default: ").append(s.defaultValue()).append(')');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The command line as the user typed it, recorded in trained models. */
    public String commandLine() {
        return commandLine;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public boolean flag(String name) {
        return "true".equals(values.get(name));
    }

    public String get(String name) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException("--" + name + " is required (see 'mipflow " + command + " --help')");
        }
        return v;
    }

    public String getOr(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    public int getInt(String name, int min, int max) throws UsageException {
        String v = get(name);
        try {
            int n = Integer.parseInt(v);
            if (n < min || n > max) {
                throw new UsageException("--" + name + " must be in " + min + ".." + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs an integer, got '" + v + "'");
        }
    }

    public long getLong(String name) throws UsageException {
        String v = get(name);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs an integer, got '" + v + "'");
        }
    }

    public double getDouble(String name) throws UsageException {
        String v = get(name);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a number, got '" + v + "'");
        }
    }

    public Path path(String name) throws UsageException {
        return Path.of(get(name));
    }
}
