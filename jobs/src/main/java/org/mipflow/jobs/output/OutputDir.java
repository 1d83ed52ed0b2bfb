package org.mipflow.jobs.output;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.mipflow.jobs.cli.UsageException;

/**
 * One command's output directory and the entries the command writes directly under it (its
 * {@link Layout}): whether an earlier run's output is there, the refusal of a run that would
 * replace it unasked, and, for {@code --overwrite}, the removal of those entries and of nothing
 * else (a file someone else put there stays).
 */
public final class OutputDir {

    /**
     * The names a command writes directly under its output directory.
     *
     * @param owned full-match pattern of those names (a checksum sibling {@code .NAME.crc} counts too)
     * @param example how the message names them, e.g. "images/, _commits/, summary.json"
     * @param takesResume the command takes --resume (its refusal suggests it only then)
     */
    public record Layout(Pattern owned, String example, boolean takesResume) {
        public static Layout of(String regex, String example) {
            return new Layout(Pattern.compile(regex), example, false);
        }

        /** The same layout of a command that can go on with an earlier run's output (--resume). */
        public Layout withResume() {
            return new Layout(owned, example, true);
        }

        boolean owns(String name) {
            if (name.startsWith(".") && name.endsWith(".crc")) {
                name = name.substring(1, name.length() - ".crc".length());
            }
            return owned.matcher(name).matches();
        }
    }

    private final Path dir;
    private final String shown;
    private final FileSystem fs;
    private final Layout layout;

    public OutputDir(String dir, Layout layout, Configuration conf) throws IOException {
        this.dir = new Path(dir);
        this.shown = dir;
        this.fs = this.dir.getFileSystem(conf);
        this.layout = layout;
    }

    /** The entries of an earlier run there (empty when the directory does not exist). */
    public List<Path> earlierOutput() throws IOException {
        List<Path> found = new ArrayList<>();
        FileStatus[] all;
        try {
            all = fs.listStatus(dir);
        } catch (FileNotFoundException e) {
            return found;
        }
        for (FileStatus st : all) {
            if (layout.owns(st.getPath().getName())) {
                found.add(st.getPath());
            }
        }
        return found;
    }

    /**
     * Refuses a {@link WritePolicy#FRESH} run over an earlier run's output (one line, exit 2),
     * before anything is written; the other policies say what to do with it.
     */
    public void check(WritePolicy policy) throws UsageException, IOException {
        List<Path> found = policy == WritePolicy.FRESH ? earlierOutput() : List.of();
        if (!found.isEmpty()) {
            // what is there, not the whole layout: a run stopped early leaves only some of it
            List<String> names = new ArrayList<>();
            for (Path p : found) {
                names.add(p.getName() + (fs.getFileStatus(p).isDirectory() ? "/" : ""));
            }
            java.util.Collections.sort(names);
            throw new UsageException("--out " + shown + " holds the output of an earlier run (" + String.join(", ", names)
                    + "); add " + (layout.takesResume() ? "--resume to go on with it or " : "")
                    + "--overwrite to replace it, or choose another --out");
        }
    }

    /**
     * {@code --overwrite}: removes every entry of the layout and nothing else; returns how many.
     * Call it only once the new run's plan is valid, so a mistake in another option deletes nothing.
     */
    public int clear() throws IOException {
        List<Path> old = earlierOutput();
        for (Path p : old) {
            if (!fs.delete(p, true) && fs.exists(p)) {
                throw new IOException("could not delete " + p);
            }
        }
        return old.size();
    }

    public String shown() {
        return shown;
    }
}
