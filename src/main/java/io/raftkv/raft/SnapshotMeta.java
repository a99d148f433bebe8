package io.raftkv.raft;

/**
 * What identifies a snapshot of the state machine: the index and term of the last log entry it covers (Raft paper
 * section 7: lastIncludedIndex, lastIncludedTerm). The snapshot's data is the runtime's business; the core only
 * needs to know which point in the log it stands for.
 */
public record SnapshotMeta(long index, long term) {

    /** No snapshot: the log starts at index 1. */
    public static final SnapshotMeta NONE = new SnapshotMeta(0, 0);

    public SnapshotMeta {
        if (index < 0 || term < 0 || (index == 0) != (term == 0)) {
            throw new IllegalArgumentException("invalid snapshot point: index " + index + ", term " + term);
        }
    }

    public boolean isNone() {
        return index == 0;
    }

    @Override
    public String toString() {
        return index + "@" + term;
    }
}
