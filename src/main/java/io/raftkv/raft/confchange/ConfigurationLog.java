package io.raftkv.raft.confchange;

import io.raftkv.raft.ConfigEntry;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;

import io.raftkv.raft.LogStorage;
import io.raftkv.raft.SnapshotMeta;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which configuration is in effect at each point of a node's log. A configuration takes effect as soon as its CONFIG
 * entry is appended, committed or not (dissertation 4.1), so a truncated log suffix takes its configurations with it
 * and the node falls back to the one before. Hence this keeps a base (the configuration as of {@code baseIndex}: the
 * snapshot's, or the bootstrap one) and every CONFIG entry after it, the uncommitted tail included.
 */
public final class ConfigurationLog {

    private long baseIndex;
    private Configuration base;
    private final TreeMap<Long, Configuration> changes = new TreeMap<>();

    public ConfigurationLog(long baseIndex, Configuration base) {
        this.baseIndex = baseIndex;
        this.base = base;
    }

    /**
     * The configurations of a stored log: the snapshot's (or, for a snapshot written before snapshots carried one, the
     * bootstrap configuration) and that of every CONFIG entry stored after it. How a restarted node recovers the
     * configuration it had.
     */
    public static ConfigurationLog recover(LogStorage storage, SnapshotMeta snapshot, Configuration bootstrap) {
        ConfigurationLog configs;
        long from;
        if (snapshot.configuration() != null) {
            configs = new ConfigurationLog(snapshot.index(), snapshot.configuration());
            from = Math.max(snapshot.index() + 1, storage.firstIndex());
        } else {
            configs = new ConfigurationLog(0, bootstrap);
            from = storage.firstIndex();
        }
        while (from <= storage.lastIndex()) {
            List<Entry> chunk = storage.entries(from, storage.lastIndex() + 1, 4 << 20);
            configs.appended(chunk.stream().filter(e -> e.type() == EntryType.CONFIG).toList());
            from += chunk.size();
        }
        return configs;
    }

    /**
     * Entries were appended starting at the first one's index, replacing whatever the log held from there: drop the
     * configurations of the replaced entries, then take on those of the new ones.
     */
    public void appended(Iterable<Entry> entries) {
        boolean first = true;
        for (Entry e : entries) {
            if (first) {
                changes.tailMap(e.index(), true).clear();
                first = false;
            }
            if (e.type() == EntryType.CONFIG && e.index() > baseIndex) {
                changes.put(e.index(), ConfigEntry.configurationOf(e));
            }
        }
    }

    /** The log was replaced by a snapshot at {@code index} whose configuration is {@code c}. */
    public void reset(long index, Configuration c) {
        changes.clear();
        baseIndex = index;
        base = c;
    }

    /** A snapshot covers the log up to {@code index}: forget the history before it. */
    public void compact(long index) {
        if (index <= baseIndex) {
            return;
        }
        base = at(index);
        baseIndex = index;
        changes.headMap(index, true).clear();
    }

    /** The configuration in effect now: that of the last CONFIG entry in the log, or the base. */
    public Configuration current() {
        return changes.isEmpty() ? base : changes.lastEntry().getValue();
    }

    /** The configuration in effect once the log up to {@code index} is applied ({@code index >= baseIndex}). */
    public Configuration at(long index) {
        if (index < baseIndex) {
            throw new IllegalArgumentException("the configuration before index " + baseIndex + " is not kept (asked for " + index + ")");
        }
        Map.Entry<Long, Configuration> e = changes.floorEntry(index);
        return e == null ? base : e.getValue();
    }

    /** Index of the last CONFIG entry in the log, or 0 if the log after the base holds none. */
    public long lastChangeIndex() {
        return changes.isEmpty() ? 0 : changes.lastKey();
    }
}
