package org.mipflow.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Links between the README and the docs pages point at files that exist and, with a #fragment,
 * at a heading of that page (GitHub's anchor for it), so that moving or renaming a section
 * cannot leave a link behind.
 */
class DocsLinksTest {
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$");

    /** GitHub's anchor of a heading: lower case, punctuation but '-' and '_' dropped, spaces to '-'. */
    static String anchor(String heading) {
        return heading.strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    private static Set<String> anchors(Path page) throws IOException {
        Set<String> a = new HashSet<>();
        boolean code = false;
        for (String l : Files.readAllLines(page)) {
            if (l.strip().startsWith("```")) {
                code = !code;
            }
            Matcher m = HEADING.matcher(l);
            if (!code && m.matches()) {
                a.add(anchor(m.group(1)));
            }
        }
        return a;
    }

    @Test
    void linksBetweenPagesResolve() throws IOException {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (DocPages.Page p : DocPages.pages()) {
            Path dir = ChildJvm.ROOT.resolve(p.name()).getParent();
            for (int i = 0; i < p.lines().size(); i++) {
                Matcher m = LINK.matcher(p.lines().get(i));
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("^[a-z]+:.*")) {
                        continue; // http(s): and other schemes
                    }
                    checked++;
                    String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                    String fragment = target.contains("#") ? target.substring(target.indexOf('#') + 1) : null;
                    Path f = file.isEmpty() ? ChildJvm.ROOT.resolve(p.name()) : dir.resolve(file).normalize();
                    String where = p.name() + ":" + (i + 1) + ": " + target;
                    if (!Files.exists(f)) {
                        problems.add(where + ": no such file");
                    } else if (fragment != null && !anchors(f).contains(fragment)) {
                        problems.add(where + ": no heading with that anchor");
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(checked > 30, "only " + checked + " links found: is the pattern still right?");
    }

    @Test
    void anchorsAreGithubs() {
        assertEquals("sampling-what-the-modes-do", anchor("Sampling (what the modes do)"));
        assertEquals("encode-images-to-latents", anchor("encode: images to latents"));
        assertEquals("decode-options", anchor("decode options"));
    }
}
