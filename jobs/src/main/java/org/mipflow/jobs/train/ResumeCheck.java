package org.mipflow.jobs.train;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a run may go on from a checkpoint: the checkpoint's training record (written by the run
 * that made it) against the record this run would write, field by field. A resumed run that took
 * other settings would end with weights its model.json does not describe.
 *
 * <p>What may change between the two: the command line and the counts of its run (steps done and
 * planned, wall time), the threads and the machine, none of which decide what a step computes.
 * A longer {@code --steps} is allowed on purpose: it stretches the cosine schedule from the
 * checkpoint on, and the record's command then shows both commands. A field that only one of the
 * two records has is not compared (an older Mipflow did not record it). A nested record that
 * differs (the model a run started from, distillation's teacher) is named once, not field by field.
 */
final class ResumeCheck {
    private static final Set<String> FREE = Set.of("command", "steps", "wallSeconds", "threads", "machine");
    /** What a difference inside these nested records means, in the user's words. */
    private static final Map<String, String> NESTED = Map.of(
            "initFrom", "the checkpoint started from another --init model",
            "teacherSha256", "the checkpoint was distilled from another teacher");

    private ResumeCheck() {}

    /**
     * One line for each nested record that differs (first: it explains the rest), then "field:
     * checkpoint X, this run Y" for every setting that differs; empty when the run may resume.
     */
    static List<String> differences(JsonObject checkpoint, JsonObject now) {
        List<String> nested = new ArrayList<>();
        List<String> fields = new ArrayList<>();
        collect("", checkpoint, now, nested, fields);
        nested.addAll(fields);
        return nested;
    }

    private static void collect(String prefix, JsonObject checkpoint, JsonObject now, List<String> nested,
            List<String> fields) {
        for (Map.Entry<String, JsonElement> e : checkpoint.entrySet()) {
            String key = e.getKey();
            JsonElement a = e.getValue();
            JsonElement b = now.get(key);
            if (FREE.contains(key) || b == null) {
                continue;
            }
            if (a.isJsonObject() && b.isJsonObject()) {
                if (!NESTED.containsKey(key)) {
                    collect(prefix + key + ".", a.getAsJsonObject(), b.getAsJsonObject(), nested, fields);
                } else if (!differences(a.getAsJsonObject(), b.getAsJsonObject()).isEmpty()) {
                    nested.add(prefix + key + ": " + NESTED.get(key));
                }
            } else if (!a.equals(b)) {
                fields.add(prefix + key + ": checkpoint " + a + ", this run " + b);
            }
        }
    }

    /**
     * The command a resumed run records: the one that wrote the checkpoint, then this one, so that
     * the record names every command that made the weights, in order.
     *
     * @param ownRecord the checkpoint's record of its own run (for distillation, its distillation part)
     */
    static String commandChain(JsonObject ownRecord, String commandLine) {
        JsonElement earlier = ownRecord.get("command");
        return earlier == null ? commandLine : earlier.getAsString() + " && " + commandLine;
    }
}
