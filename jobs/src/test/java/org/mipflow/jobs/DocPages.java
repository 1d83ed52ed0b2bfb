package org.mipflow.jobs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The README and docs/*.md as the tests read them: the runnable command blocks and the option
 * tables, by the convention docs/README.md states ("Commands that are tested", "Options that
 * are documented").
 */
final class DocPages {
    private static final Pattern FENCE_OPEN = Pattern.compile("^( *)```console( slow)?\\s*$");
    private static final Pattern OPTIONS_MARK = Pattern.compile("^<!-- options: ([a-z-]+) -->\\s*$");
    private static final Pattern OPTION_CELL = Pattern.compile("^`--([a-z0-9-]+)(?: ([^`]+))?`$");

    private DocPages() {}

    /** One page: where it is (relative to the repository root) and its lines. */
    record Page(String name, List<String> lines) {}

    /** A command of a runnable block, the output lines it must print and the exit code it must give. */
    record Step(String command, List<String> output, int exit) {}

    /** A ```console block: where it starts (page:line), whether it is slow, its commands in order. */
    record Block(String where, boolean slow, List<Step> steps) {}

    /** One row of an option table: {@code --name ARG} (arg null for a flag). */
    record DocumentedOption(String name, String arg, String where) {}

    /** One command's option table. */
    record OptionTable(String command, String where, List<DocumentedOption> options) {}

    /** README.md, CONTRIBUTING.md and every docs/*.md, in a fixed order. */
    static List<Page> pages() {
        Path root = ChildJvm.ROOT;
        List<Path> files = new ArrayList<>(List.of(root.resolve("README.md"), root.resolve("CONTRIBUTING.md")));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().forEach(files::add);
            List<Page> pages = new ArrayList<>();
            for (Path f : files) {
                if (Files.exists(f)) {
                    pages.add(new Page(root.relativize(f).toString(), Files.readAllLines(f)));
                }
            }
            return pages;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every ```console block of every page. */
    static List<Block> blocks(List<Page> pages) {
        List<Block> blocks = new ArrayList<>();
        for (Page p : pages) {
            List<String> lines = p.lines();
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = FENCE_OPEN.matcher(lines.get(i));
                if (!m.matches()) {
                    continue;
                }
                String where = p.name() + ":" + (i + 1);
                int indent = m.group(1).length();
                List<String> body = new ArrayList<>();
                int j = i + 1;
                for (; j < lines.size() && !lines.get(j).strip().equals("```"); j++) {
                    String l = lines.get(j);
                    body.add(l.length() >= indent && l.substring(0, indent).isBlank() ? l.substring(indent) : l.strip());
                }
                if (j == lines.size()) {
                    throw new IllegalStateException(where + ": console block is not closed");
                }
                blocks.add(new Block(where, m.group(2) != null, steps(where, body)));
                i = j;
            }
        }
        return blocks;
    }

    private static List<Step> steps(String where, List<String> body) {
        List<String> commands = new ArrayList<>();
        List<List<String>> outputs = new ArrayList<>();
        List<Integer> exits = new ArrayList<>();
        for (int i = 0; i < body.size(); i++) {
            String l = body.get(i);
            if (l.equals("$ echo $?")) {
                if (commands.isEmpty() || i + 1 >= body.size() || !body.get(i + 1).strip().matches("\\d+")) {
                    throw new IllegalStateException(where + ": '$ echo $?' must follow a command and precede its exit code");
                }
                exits.set(exits.size() - 1, Integer.parseInt(body.get(++i).strip()));
            } else if (l.startsWith("$ ")) {
                commands.add(l.substring(2).strip());
                outputs.add(new ArrayList<>());
                exits.add(0);
            } else if (commands.isEmpty()) {
                if (!l.isBlank()) {
                    throw new IllegalStateException(where + ": output before the first '$ ' command: " + l);
                }
            } else if (!l.isBlank()) {
                outputs.get(outputs.size() - 1).add(l);
            }
        }
        if (commands.isEmpty()) {
            throw new IllegalStateException(where + ": a console block without a '$ ' command");
        }
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            steps.add(new Step(commands.get(i), List.copyOf(outputs.get(i)), exits.get(i)));
        }
        return steps;
    }

    /** Every option table ({@code <!-- options: COMMAND -->} followed by a Markdown table). */
    static List<OptionTable> optionTables(List<Page> pages) {
        List<OptionTable> tables = new ArrayList<>();
        for (Page p : pages) {
            List<String> lines = p.lines();
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = OPTIONS_MARK.matcher(lines.get(i));
                if (!m.matches()) {
                    continue;
                }
                String where = p.name() + ":" + (i + 1);
                List<DocumentedOption> options = new ArrayList<>();
                // The header row and the separator row, then one row per option.
                int j = i + 3;
                if (j > lines.size() || !lines.get(i + 1).startsWith("|") || !lines.get(i + 2).startsWith("|---")) {
                    throw new IllegalStateException(where + ": an options marker must be followed by a table");
                }
                for (; j < lines.size() && lines.get(j).startsWith("|"); j++) {
                    String cell = lines.get(j).split("\\|")[1].strip();
                    Matcher c = OPTION_CELL.matcher(cell);
                    if (!c.matches()) {
                        throw new IllegalStateException(p.name() + ":" + (j + 1) + ": the first cell must be `--name ARG` or `--flag`, is "
                                + cell);
                    }
                    options.add(new DocumentedOption(c.group(1), c.group(2), p.name() + ":" + (j + 1)));
                }
                tables.add(new OptionTable(m.group(1), where, List.copyOf(options)));
            }
        }
        return tables;
    }

    /**
     * Matches {@code actual} against a documented output line, in which "..." stands for any
     * text and everything else is literal (trailing blanks ignored).
     */
    static boolean lineMatches(String documented, String actual) {
        StringBuilder re = new StringBuilder();
        String[] parts = documented.stripTrailing().split("\\.\\.\\.", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                re.append(".*");
            }
            re.append(Pattern.quote(parts[i]));
        }
        return Pattern.compile(re.toString()).matcher(actual.stripTrailing()).matches();
    }

    /**
     * The documented lines not found, in order, in the actual output (empty when all are): each
     * documented line must match an actual line after the one the previous documented line matched.
     */
    static List<String> missingLines(List<String> documented, List<String> actual) {
        List<String> missing = new ArrayList<>();
        int from = 0;
        for (String d : documented) {
            if (d.strip().equals("...")) {
                continue;
            }
            int found = -1;
            for (int k = from; k < actual.size(); k++) {
                if (lineMatches(d, actual.get(k))) {
                    found = k;
                    break;
                }
            }
            if (found < 0) {
                missing.add(d);
            } else {
                from = found + 1;
            }
        }
        return missing;
    }
}
