package org.mipflow.spark;

import java.util.Arrays;
import java.util.Locale;

/**
 * What becomes of a row that cannot be decoded, under Spark ML's name for it ({@code handleInvalid},
 * as in {@code StringIndexer} or {@code VectorAssembler}). One setting for every caller: the
 * Transformer's {@code handleInvalid} Param and the decode command's {@code --fail-fast} (ERROR;
 * without it KEEP) both end in {@link DecodePartition}.
 */
public enum InvalidRows {
    /** The row keeps its place with {@code error} set and the image columns null (the default). */
    KEEP,
    /** The task, and so the job, fails at the first bad row, naming the row and the reason. */
    ERROR,
    /** The row is dropped; the count goes to the skip accumulator and the executor log. */
    SKIP;

    /** The Param's values, in Spark's spelling. */
    public static final String[] LABELS = Arrays.stream(values()).map(InvalidRows::label).toArray(String[]::new);

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static InvalidRows parse(String label) {
        for (InvalidRows v : values()) {
            if (v.label().equals(label)) {
                return v;
            }
        }
        throw new IllegalArgumentException("handleInvalid must be one of " + String.join(", ", LABELS) + ": " + label);
    }

    /**
     * What ERROR throws. Its message starts with {@link #PREFIX}, which the decode command finds
     * in a failed job's causes and prints as its {@code --fail-fast} error.
     */
    public static final class Stop extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        public static final String PREFIX = "handleInvalid=error: ";

        public Stop(String what) {
            super(PREFIX + what);
        }
    }
}
