package org.mipflow.jobs.output;

import java.io.File;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.mipflow.jobs.cli.UsageException;

/**
 * Keeps a run's output out of its input: an {@code --out} equal to, inside, or containing an
 * {@code --input} path is refused, or the output lands inside the data set (and is read as input
 * next time), or the input is deleted by {@code --overwrite}. Paths are compared qualified (file
 * system scheme and authority, then path components, so {@code /data/in} does not contain
 * {@code /data/input}); a glob input is compared through its directory before the first pattern
 * component, the most it can match. Symbolic links are not resolved.
 */
public final class InputOutputCheck {
    private InputOutputCheck() {}

    public static void check(List<String> inputs, String out, Configuration conf) throws UsageException {
        Where o = where(out, conf);
        for (String in : inputs) {
            Where i = where(in, conf);
            if (!o.sameStore(i)) {
                continue;
            }
            if (o.components().equals(i.components())) {
                throw new UsageException("--out " + out + " is the input " + in + ": choose an output directory "
                        + "outside the input");
            }
            if (startsWith(o.components(), i.components())) {
                throw new UsageException("--out " + out + " is inside the input " + in + ": the output would be "
                        + "read as input by the next run; choose an output directory outside it");
            }
            if (startsWith(i.components(), o.components())) {
                throw new UsageException("--out " + out + " contains the input " + in + ": an output directory "
                        + "must not hold its own input; choose another");
            }
        }
    }

    /** A qualified path: scheme and authority (lower case), and its components up to the first glob. */
    private record Where(String scheme, String authority, List<String> components) {
        boolean sameStore(Where w) {
            return scheme.equals(w.scheme) && authority.equals(w.authority);
        }
    }

    private static Where where(String path, Configuration conf) throws UsageException {
        URI u;
        try {
            // Qualified without connecting to the store: a check of names needs no round trip.
            URI fs = FileSystem.getDefaultUri(conf);
            Path work = "file".equals(fs.getScheme()) ? new Path(new File(System.getProperty("user.dir")).toURI())
                    : new Path("/user/" + System.getProperty("user.name"));
            u = new Path(path).makeQualified(fs, work).toUri();
        } catch (IllegalArgumentException e) {
            throw new UsageException("cannot resolve " + path + ": " + e.getMessage());
        }
        List<String> parts = new ArrayList<>();
        for (String c : u.getPath().split("/")) {
            if (c.isEmpty()) {
                continue;
            }
            if (isGlob(c)) {
                break;
            }
            parts.add(c);
        }
        return new Where(lower(u.getScheme()), lower(u.getAuthority()), parts);
    }

    private static boolean isGlob(String component) {
        for (char ch : component.toCharArray()) {
            if ("*?[]{}\\".indexOf(ch) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(List<String> path, List<String> prefix) {
        return path.size() > prefix.size() && path.subList(0, prefix.size()).equals(prefix);
    }

    private static String lower(String s) {
        return s == null ? "" : s.toLowerCase(Locale.ROOT);
    }
}
