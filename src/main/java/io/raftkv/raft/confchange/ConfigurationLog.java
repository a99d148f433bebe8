package io.raftkv.raft.confchange;

import io.raftkv.raft.ConfigEntry;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;

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
