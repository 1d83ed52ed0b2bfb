package org.mipflow.jobs.decode;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Packs shards into waves: each wave is one Spark job over whole shards of one schema, committed
 * together. Waves keep the cost per row independent of how the rows are split into files (a
 * thousand tiny shards are one job, not a thousand), while bounding what a kill loses (one wave)
 * and how large one commit record is (an entry per shard; the commit itself moves two directories,
 * images/wave=W and errors/wave=W, whatever the number of shards).
 */
final class WavePlan {
    /** Shards decoded and committed together. */
    record Wave(String name, String schema, List<ShardScan.Shard> shards) {
        long rows() {
            return shards.stream().mapToLong(ShardScan.Shard::rows).sum();
        }

        List<String> paths() {
            return shards.stream().map(ShardScan.Shard::path).toList();
        }
    }

    private WavePlan() {}

    /**
     * @param maxRows a wave closes once it holds this many rows (a larger shard is a wave of its own)
     * @param maxShards and at most this many shards
     * @param run prefix of the wave names, unique per run so that a resumed run adds records
     */
    static List<Wave> plan(List<ShardScan.Shard> shards, long maxRows, int maxShards, String run) {
        Map<String, List<ShardScan.Shard>> bySchema = new LinkedHashMap<>();
        for (ShardScan.Shard s : shards) {
            bySchema.computeIfAbsent(s.schema(), k -> new ArrayList<>()).add(s);
        }
        List<Wave> waves = new ArrayList<>();
        for (var e : bySchema.entrySet()) {
            List<ShardScan.Shard> current = new ArrayList<>();
            long rows = 0;
            for (ShardScan.Shard s : e.getValue()) {
                if (!current.isEmpty() && (rows + s.rows() > maxRows || current.size() >= maxShards)) {
                    waves.add(new Wave(name(run, waves.size()), e.getKey(), current));
                    current = new ArrayList<>();
                    rows = 0;
                }
                current.add(s);
                rows += s.rows();
            }
            if (!current.isEmpty()) {
                waves.add(new Wave(name(run, waves.size()), e.getKey(), current));
            }
        }
        return waves;
    }

    private static String name(String run, int index) {
        return String.format(Locale.ROOT, "%s-%05d", run, index);
    }
}
