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
        java.util.Set<String> typed = new java.util.HashSet<>();
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
            typed.add(name);
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
        String cwd = System.getProperty(USER_DIR_PROPERTY);
        if (cwd != null) {
            for (Spec s : specs) {
                String v = values.get(s.name());
                if (s.arg() != null && PATH_ARGS.contains(s.arg()) && typed.contains(s.name())) {
                    values.put(s.name(), fromUserDir(v, Path.of(cwd), "PATHS".equals(s.arg())));
                }
            }
        }
        return new Options(command, values, "bin/mipflow " + command + (args.length == 0 ? "" : " " + String.join(" ", args)));
    }

    /**
     * Set by {@code bin/mipflow} to the directory the user ran it in (the JVM itself runs in the
     * repository, where the defaults point): paths the user typed are relative to it.
     */
    public static final String USER_DIR_PROPERTY = "mipflow.cwd";

    /** The placeholders of options whose values are paths (PATHS: comma-separated, globs allowed). */
    private static final java.util.Set<String> PATH_ARGS = java.util.Set.of("DIR", "FILE", "PATHS");

    /**
     * A typed relative local path made absolute against the user's directory; absolute paths and
     * URIs with a scheme ({@code hdfs:}, {@code s3a:}, {@code file:}) stay as they are.
     */
    static String fromUserDir(String value, Path userDir, boolean list) {
        if (!list) {
            return fromUserDir(value, userDir);
        }
        List<String> parts = new java.util.ArrayList<>();
        for (String p : value.split(",", -1)) {
            parts.add(p.isBlank() ? p : fromUserDir(p.trim(), userDir));
        }
        return String.join(",", parts);
    }

    private static String fromUserDir(String p, Path userDir) {
        if (p.startsWith("/") || p.matches("[A-Za-z][A-Za-z0-9+.-]*:.*")) {
            return p;
        }
        return userDir.resolve(p).normalize().toString();
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

    /** Terminal width the help is wrapped to. */
    static final int WIDTH = 100;

    /** {@code text} broken at spaces into lines of at most {@link #WIDTH}, continued {@code indent} columns in. */
    public static String wrap(String text, int indent) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ", -1)) {
            if (line.length() > indent && line.length() + 1 + word.length() > WIDTH - 2) {
                out.append(line.toString().stripTrailing()).append('\n');
                line.setLength(0);
                line.append(" ".repeat(indent));
            } else if (line.length() > 0 && !line.toString().isBlank()) {
                line.append(' ');
            }
            line.append(word);
        }
        return out.append(line).append('\n').toString();
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
        return intIn(name, get(name), min, max);
    }

    /** {@code v} as the value, or one of the values, of option {@code name}: an integer in min..max. */
    private static int intIn(String name, String v, int min, int max) throws UsageException {
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

    /** {@link #getInt}, or null when the option is not given (its default then comes from elsewhere). */
    public Integer optionalInt(String name, int min, int max) throws UsageException {
        return has(name) ? getInt(name, min, max) : null;
    }

    /**
     * Exactly {@code count} comma-separated integers, each in min..max, or null when the option is
     * not given (its default then comes from elsewhere).
     */
    public int[] optionalInts(String name, int count, int min, int max) throws UsageException {
        if (!has(name)) {
            return null;
        }
        String[] parts = get(name).split(",", -1);
        if (parts.length != count) {
            throw new UsageException("--" + name + " needs " + count + " comma-separated integers, got '" + get(name)
                    + "'");
        }
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = intIn(name, parts[i].trim(), min, max);
        }
        return out;
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

    /** A loss term's weight: a finite number, 0 or more (0 turns the term off). */
    public double getWeight(String name) throws UsageException {
        double w = getDouble(name);
        if (!(w >= 0) || Double.isInfinite(w)) {
            throw new UsageException("--" + name + " must be a finite number >= 0 (0 turns the term off), got " + get(name));
        }
        return w;
    }

    public Path path(String name) throws UsageException {
        return Path.of(get(name));
    }

    /**
     * The directory {@code --name} names, refused with one line when it is missing or is a file
     * (say a model's model.json given for the model directory).
     *
     * @param what how the message names it, e.g. "model directory"
     */
    public Path directory(String name, String what) throws UsageException {
        Path p = path(name);
        if (java.nio.file.Files.isRegularFile(p)) {
            throw new UsageException("--" + name + " " + p + " is a file; give the " + what + " that holds it"
                    + (p.getParent() == null ? "" : " (" + p.getParent() + ")"));
        }
        if (!java.nio.file.Files.isDirectory(p)) {
            throw new UsageException(what + " " + p + " does not exist");
        }
        return p;
    }
}
