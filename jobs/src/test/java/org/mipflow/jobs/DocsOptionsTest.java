package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.mipflow.jobs.cli.Command;
import org.mipflow.jobs.cli.Options;

/**
 * The options the docs name against each command's --help (both print from the command's
 * {@link Options.Spec} list): every command has one option table (docs/README.md, "Options that
 * are documented"), every documented option exists with the argument --help shows, every --help
 * option is documented, and every {@code bin/mipflow COMMAND --option} written anywhere in the
 * docs is an option of that command.
 */
class DocsOptionsTest {
    /** bin/mipflow COMMAND and the rest of the line (up to the end of a code span or table cell). */
    private static final Pattern INVOCATION = Pattern.compile("bin/mipflow ([a-z][a-z-]*)([^`|]*)");
    /** A code span that starts with a command name and an option: `decode --features DIR`. */
    private static final Pattern SPAN = Pattern.compile("`([a-z][a-z-]*) (--[^`]*)`");
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--([a-z0-9][a-z0-9-]*)");

    private static Map<String, Map<String, Options.Spec>> helpOptions() {
        Map<String, Map<String, Options.Spec>> m = new LinkedHashMap<>();
        for (Command c : Main.commands().values()) {
            Map<String, Options.Spec> specs = new LinkedHashMap<>();
            c.options().forEach(s -> specs.put(s.name(), s));
            m.put(c.name(), specs);
        }
        return m;
    }

    @Test
    void everyCommandsOptionTableMatchesItsHelp() {
        Map<String, Map<String, Options.Spec>> help = helpOptions();
        List<DocPages.OptionTable> tables = DocPages.optionTables(DocPages.pages());
        List<String> problems = new ArrayList<>();
        Map<String, DocPages.OptionTable> byCommand = new LinkedHashMap<>();
        for (DocPages.OptionTable t : tables) {
            if (!help.containsKey(t.command())) {
                problems.add(t.where() + ": options table of an unknown command '" + t.command() + "'");
            } else if (byCommand.put(t.command(), t) != null) {
                problems.add(t.where() + ": a second options table of '" + t.command() + "' (one per command)");
            }
        }
        for (var e : help.entrySet()) {
            String cmd = e.getKey();
            DocPages.OptionTable t = byCommand.get(cmd);
            if (t == null) {
                problems.add("no options table of '" + cmd + "' in the docs (<!-- options: " + cmd + " -->)");
                continue;
            }
            Set<String> documented = new TreeSet<>();
            for (DocPages.DocumentedOption o : t.options()) {
                Options.Spec s = e.getValue().get(o.name());
                if (!documented.add(o.name())) {
                    problems.add(o.where() + ": --" + o.name() + " is documented twice");
                } else if (s == null) {
                    problems.add(o.where() + ": --" + o.name() + " is documented but '" + cmd + " --help' has no such option");
                } else if (!java.util.Objects.equals(s.arg(), o.arg())) {
                    problems.add(o.where() + ": --" + o.name() + " is documented with " + (o.arg() == null ? "no argument"
                            : "argument " + o.arg()) + ", --help shows " + (s.arg() == null ? "a flag" : s.arg()));
                }
            }
            for (String name : e.getValue().keySet()) {
                if (!documented.contains(name)) {
                    problems.add(t.where() + ": '" + cmd + " --help' has --" + name + ", which the table does not document");
                }
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(help.keySet(), byCommand.keySet());
    }

    @Test
    void everyOptionACommandLineInTheDocsUsesExists() {
        Map<String, Map<String, Options.Spec>> help = helpOptions();
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (DocPages.Page p : DocPages.pages()) {
            List<String> lines = joinContinuations(p.lines());
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                List<String[]> uses = new ArrayList<>();
                Matcher inv = INVOCATION.matcher(line);
                while (inv.find()) {
                    uses.add(new String[] {inv.group(1), inv.group(2)});
                }
                Matcher span = SPAN.matcher(line);
                while (span.find()) {
                    if (help.containsKey(span.group(1))) {
                        uses.add(new String[] {span.group(1), span.group(2)});
                    }
                }
                for (String[] u : uses) {
                    Map<String, Options.Spec> specs = help.get(u[0]);
                    if (specs == null) {
                        problems.add(p.name() + ":" + (i + 1) + ": unknown command 'bin/mipflow " + u[0] + "'");
                        continue;
                    }
                    Matcher o = OPTION.matcher(u[1]);
                    while (o.find()) {
                        checked++;
                        if (!specs.containsKey(o.group(1)) && !o.group(1).equals("help")) {
                            problems.add(p.name() + ":" + (i + 1) + ": '" + u[0] + "' has no option --" + o.group(1));
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(checked > 20, "only " + checked + " options found on command lines: is the pattern still right?");
    }

    /** Lines ending in a backslash (shell continuations) joined with the next, keeping the line count. */
    private static List<String> joinContinuations(List<String> lines) {
        List<String> out = new ArrayList<>(lines);
        for (int i = out.size() - 2; i >= 0; i--) {
            String l = out.get(i);
            if (l.endsWith("\\")) {
                out.set(i, l.substring(0, l.length() - 1) + " " + out.get(i + 1).strip());
            }
        }
        return out;
    }

    @Test
    void theOutputMatcherTakesDotsForAnyTextAndNothingElse() {
        assertTrue(DocPages.lineMatches("decode: scanned 1 shard(s) (0 bad), 3 row(s), in ... s",
                "decode: scanned 1 shard(s) (0 bad), 3 row(s), in 3.2 s"));
        assertTrue(DocPages.lineMatches("... images/s over ... s; mean PSNR 24.5... dB",
                "0.20 images/s over 14.8 s; mean PSNR 24.560 dB"));
        assertTrue(!DocPages.lineMatches("mean PSNR 24.5... dB", "mean PSNR 23.560 dB"));
        assertTrue(!DocPages.lineMatches("input rows 3 = decoded 3", "input rows 3 = decoded 3 + errors 0"));
        assertEquals(List.of(), DocPages.missingLines(List.of("a", "...", "c"), List.of("a", "b", "c")));
        assertEquals(List.of("a"), DocPages.missingLines(List.of("c", "a"), List.of("a", "b", "c")), "order counts");
    }
}
