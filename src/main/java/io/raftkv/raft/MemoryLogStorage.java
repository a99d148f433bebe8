package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/** An in-memory {@link WritableLogStorage}: the simulation's "disk", which survives a simulated crash. */
public final class MemoryLogStorage implements WritableLogStorage {

    private final List<Entry> entries = new ArrayList<>();
    private HardState hardState = HardState.EMPTY;

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public synchronized long firstIndex() {
        return 1;
    }

    @Override
    public synchronized long lastIndex() {
        return entries.size();
    }

    @Override
    public synchronized long term(long index) {
        if (index == 0) {
            return 0;
        }
        if (index < 0 || index > entries.size()) {
            throw new IndexOutOfBoundsException("no entry " + index + " (last " + entries.size() + ")");
        }
        return entries.get((int) index - 1).term();
    }

    @Override
    public synchronized List<Entry> entries(long lo, long hi, long maxBytes) {
        if (lo < 1 || hi > entries.size() + 1 || lo > hi) {
            throw new IndexOutOfBoundsException("entries [" + lo + "," + hi + ") of 1.." + entries.size());
        }
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = lo; i < hi; i++) {
            Entry e = entries.get((int) i - 1);
            bytes += e.sizeInBytes();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    @Override
    public synchronized void save(HardState hs, List<Entry> newEntries) {
        if (!newEntries.isEmpty()) {
            long first = newEntries.get(0).index();
            if (first < 1 || first > entries.size() + 1) {
                throw new IllegalStateException("gap: appending at " + first + " after " + entries.size());
            }
            while (entries.size() >= first) {
                entries.remove(entries.size() - 1);
            }
            entries.addAll(newEntries);
        }
        if (hs != null) {
            hardState = hs;
        }
    }

    /** A copy of every entry, for checkers. */
    public synchronized List<Entry> all() {
        return new ArrayList<>(entries);
    }
}
