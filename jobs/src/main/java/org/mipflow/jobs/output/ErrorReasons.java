package org.mipflow.jobs.output;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.mipflow.spark.DecodeSchemas;

/**
 * Why rows went to an errors output, for a run's closing lines and its summary: the most frequent
 * reasons with their counts and one example id each (the smallest, so reruns name the same one).
 *
 * @param kinds how many distinct reasons there are
 * @param top the most frequent, most first (ties by reason)
 */
public record ErrorReasons(long kinds, List<Reason> top) {
    public static final int TOP = 5;
    public static final ErrorReasons NONE = new ErrorReasons(0, List.of());

    /** One reason: how many rows, and one id that has it. */
    public record Reason(String reason, long rows, String exampleId) {}

    /** Groups error rows (columns {@code id} and {@code error}); rows without an id are left out. */
    public static ErrorReasons of(Dataset<Row> errors) {
        Dataset<Row> byReason = errors.filter(col(DecodeSchemas.ID).isNotNull()).groupBy(col(DecodeSchemas.ERROR))
                .agg(count(lit(1)).as("rows"), min(col(DecodeSchemas.ID)).as("example"))
                .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
        try {
            List<Reason> top = new ArrayList<>();
            for (Row r : byReason.orderBy(col("rows").desc(), col(DecodeSchemas.ERROR)).limit(TOP).collectAsList()) {
                top.add(new Reason(r.getString(0), r.getLong(1), r.getString(2)));
            }
            return new ErrorReasons(top.size() < TOP ? top.size() : byReason.count(), List.copyOf(top));
        } finally {
            byReason.unpersist();
        }
    }

    /** The closing lines: a heading and one line per reason; none when there were no errors. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        if (top.isEmpty()) {
            return out;
        }
        out.add(kinds > top.size() ? String.format(Locale.ROOT, "errors by reason (the %d most frequent of %d):",
                top.size(), kinds) : "errors by reason:");
        for (Reason r : top) {
            out.add(String.format(Locale.ROOT, "  %d row(s): %s (e.g. id %s)", r.rows(), oneLine(r.reason()),
                    r.exampleId()));
        }
        return out;
    }

    /** For summary.json. */
    public JsonArray json() {
        JsonArray a = new JsonArray();
        for (Reason r : top) {
            JsonObject o = new JsonObject();
            o.addProperty("reason", r.reason());
            o.addProperty("rows", r.rows());
            o.addProperty("example_id", r.exampleId());
            a.add(o);
        }
        return a;
    }

    private static String oneLine(String s) {
        String line = s == null ? "(no reason given)" : s.strip().lines().findFirst().orElse("");
        return line.length() > 300 ? line.substring(0, 297) + "..." : line;
    }
}
