package org.mipflow.spark;

/**
 * What a task throws when its executor cannot decode with the run's recipe (no native bf16 where
 * the recipe says bf16, less memory than its rows per call need): it fails rather than compute
 * other bytes. The message is one line that names the executor, what it lacks and the option that
 * changes it; it starts with {@link #PREFIX}, by which the driver finds it in a failed job's causes.
 */
public final class CannotHonourRecipe extends IllegalStateException {
    private static final long serialVersionUID = 1L;
    public static final String PREFIX = "cannot honour the run's recipe: ";

    public CannotHonourRecipe(String what) {
        super(PREFIX + what);
    }

    /** The one line inside a failed job's causes, if an executor could not honour the recipe; else null. */
    public static String find(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.contains(PREFIX)) {
                String s = m.substring(m.indexOf(PREFIX));
                int nl = s.indexOf('\n');
                return nl < 0 ? s : s.substring(0, nl);
            }
        }
        return null;
    }
}
