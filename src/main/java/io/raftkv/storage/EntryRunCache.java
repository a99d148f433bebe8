package io.raftkv.storage;

import io.raftkv.raft.Entry;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The log stores' cache of decoded entry runs (the entries of one stored record), least recently used first out,
 * bounded in records and in an estimate of their heap bytes. It keeps the leader's replication reads (the entries a
 * follower is sent a moment after they were written) off the disk and the decoder. Not thread-safe: the store's
 * monitor guards it.
 *
 * @param <K> where a run is stored (a record key or a file position)
 */
public final class EntryRunCache<K> {

    static final int MAX_RECORDS = 512;
    static final long MAX_BYTES = 16L << 20;

    private final LinkedHashMap<K, Entry[]> runs = new LinkedHashMap<>(64, 0.75f, true);
    private long bytes;

    public Entry[] get(K key) {
        return runs.get(key);
    }

    /** Adds or replaces a run, then evicts the least recently used others until both bounds hold. */
    public void put(K key, Entry[] run) {
        Entry[] old = runs.put(key, run);
        if (old != null) {
            bytes -= weight(old);
        }
        bytes += weight(run);
        Iterator<Map.Entry<K, Entry[]>> it = runs.entrySet().iterator();
        while ((bytes > MAX_BYTES || runs.size() > MAX_RECORDS) && it.hasNext()) {
            Map.Entry<K, Entry[]> eldest = it.next();
            if (eldest.getKey().equals(key)) {
                continue;
            }
            bytes -= weight(eldest.getValue());
            it.remove();
        }
    }

    public void remove(K key) {
        Entry[] old = runs.remove(key);
        if (old != null) {
            bytes -= weight(old);
        }
    }

    /** Drops every run whose key matches (e.g. those of a deleted segment). */
    public void removeIf(Predicate<K> keyMatches) {
        Iterator<Map.Entry<K, Entry[]>> it = runs.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<K, Entry[]> e = it.next();
            if (keyMatches.test(e.getKey())) {
                bytes -= weight(e.getValue());
                it.remove();
            }
        }
    }

    public void clear() {
        runs.clear();
        bytes = 0;
    }

    /** Estimated heap bytes of a decoded run: the payloads plus a fixed overhead per entry and per run. */
    private static long weight(Entry[] run) {
        long w = 64;
        for (Entry e : run) {
            w += e.data().length + 64;
        }
        return w;
    }
}
