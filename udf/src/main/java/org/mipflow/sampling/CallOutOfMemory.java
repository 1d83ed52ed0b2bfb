package org.mipflow.sampling;

/**
 * A task batch ran out of memory in its network calls of {@code callRows} rows. Not retried: a
 * smaller batch still makes calls of B rows (B decides the bytes), so it would run out again; the
 * task fails, and whoever knows the memory budget says which option changes B.
 */
public final class CallOutOfMemory extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int callRows;
    private final int height;
    private final int width;

    public CallOutOfMemory(int callRows, int height, int width, Throwable cause) {
        super("out of memory in network calls of " + callRows + " rows of " + height + "x" + width + " images: "
                + cause.getMessage(), cause);
        this.callRows = callRows;
        this.height = height;
        this.width = width;
    }

    public int callRows() {
        return callRows;
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /**
     * Whether {@code e} is an allocation failure: the JVM's, libtorch's CPU allocator's ("not
     * enough memory") or CUDA's ("out of memory"), anywhere in its causes.
     */
    public static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError || t instanceof CallOutOfMemory) {
                return true;
            }
            String m = t.getMessage();
            if (m != null) {
                String l = m.toLowerCase(java.util.Locale.ROOT);
                if (l.contains("out of memory") || l.contains("not enough memory")) {
                    return true;
                }
            }
        }
        return false;
    }
}
