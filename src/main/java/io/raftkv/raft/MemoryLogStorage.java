package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/** An in-memory {@link WritableLogStorage}: the simulation's "disk", which survives a simulated crash. */
public final class MemoryLogStorage implements WritableLogStorage {

    /** entries.get(0) has index {@code offset + 1}; entry {@code offset} (compacted) had term {@code offsetTerm}. */
    private final List<Entry> entries = new ArrayList<>();
    private long offset;
    private long offsetTerm;
    private HardState hardState = HardState.EMPTY;

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public synchronized long firstIndex() {
        return offset + 1;
    }

    @Override
    public synchronized long lastIndex() {
        return offset + entries.size();
    }

    @Override
    public synchronized long term(long index) {
        if (index == offset) {
            return offsetTerm;
        }
        if (index < offset || index > lastIndex()) {
            throw new IndexOutOfBoundsException("no entry " + index + " (log " + firstIndex() + ".." + lastIndex() + ")");
        }
        return entries.get((int) (index - offset) - 1).term();
    }

    @Override
    public synchronized List<Entry> entries(long lo, long hi, long maxBytes) {
        if (lo < firstIndex() || hi > lastIndex() + 1 || lo > hi) {
            throw new IndexOutOfBoundsException("entries [" + lo + "," + hi + ") of " + firstIndex() + ".." + lastIndex());
        }
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = lo; i < hi; i++) {
            Entry e = entries.get((int) (i - offset) - 1);
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
            if (first <= offset || first > lastIndex() + 1) {
                throw new IllegalStateException("gap: appending at " + first + " to " + firstIndex() + ".." + lastIndex());
            }
            while (lastIndex() >= first) {
                entries.remove(entries.size() - 1);
            }
            entries.addAll(newEntries);
        }
        if (hs != null) {
            hardState = hs;
        }
    }

    @Override
    public synchronized void compact(long throughIndex) {
        if (throughIndex < offset || throughIndex > lastIndex()) {
            throw new IllegalArgumentException("cannot compact through " + throughIndex + ": the log holds " + firstIndex() + ".." + lastIndex());
        }
        long t = term(throughIndex);
        entries.subList(0, (int) (throughIndex - offset)).clear();
        offset = throughIndex;
        offsetTerm = t;
    }

    @Override
    public synchronized void resetTo(SnapshotMeta s) {
        entries.clear();
        offset = s.index();
        offsetTerm = s.term();
    }

    /** A copy of every entry held (from {@link #firstIndex()}), for checkers. */
    public synchronized List<Entry> all() {
        return new ArrayList<>(entries);
    }
}
