package io.raftkv.storage;

import io.raftkv.raft.Entry;

import java.util.List;
import java.util.function.LongUnaryOperator;

/** What every log store checks before it writes an append: contiguity, term order, and no committed entry lost. */
public final class AppendRules {

    private AppendRules() {
    }

    /**
     * Validates appending {@code list} to a log holding {@code firstIndex..lastIndex} whose terms {@code termAt}
     * answers (from {@code firstIndex - 1}) and whose commit index is {@code commit}; returns the first new index.
     */
    public static long check(List<Entry> list, long firstIndex, long lastIndex, long commit, LongUnaryOperator termAt) {
        long first = list.get(0).index();
        if (first < firstIndex) {
            throw new IllegalStateException("cannot write entry " + first + ": the log starts at " + firstIndex);
        }
        if (first > lastIndex + 1) {
            throw new IllegalStateException("gap: appending entry " + first + " after " + lastIndex);
        }
        long prevTerm = termAt.applyAsLong(first - 1);
        for (int i = 0; i < list.size(); i++) {
            Entry e = list.get(i);
            if (e.index() != first + i) {
                throw new IllegalStateException("entries to save are not consecutive: " + e.index() + " at position "
                        + i + " after " + first);
            }
            if (e.term() < prevTerm) {
                throw new IllegalStateException("entry " + e.index() + " has term " + e.term() + ", lower than "
                        + prevTerm + " before it");
            }
            prevTerm = e.term();
        }
        long newLast = first + list.size() - 1;
        for (long i = first; i <= Math.min(lastIndex, commit); i++) {
            if (i > newLast || list.get((int) (i - first)).term() != termAt.applyAsLong(i)) {
                throw new IllegalStateException("saving entries from " + first + " would "
                        + (i > newLast ? "remove" : "change") + " committed entry " + i + " (commit index " + commit + ")");
            }
        }
        return first;
    }
}
