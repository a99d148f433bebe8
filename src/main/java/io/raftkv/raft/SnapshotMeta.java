package io.raftkv.raft;

/**
 * What identifies a snapshot of the state machine: the index and term of the last log entry it covers (Raft paper
 * section 7: lastIncludedIndex, lastIncludedTerm), and the cluster configuration in effect at that index, which the
 * snapshot carries because the CONFIG entries before it are compacted away (dissertation 5.1). The snapshot's data is
 * the runtime's business; the core only needs to know which point in the log it stands for.
 * <p>
 * {@code configuration} is null when unknown: snapshots written before membership changes existed, or a point the
 * runtime names before asking the core ({@link Raft#snapshotTaken} fills it in). Equality is by index and term only:
 * by log matching, two snapshots of one log at the same point have the same configuration.
 */
public record SnapshotMeta(long index, long term, Configuration configuration) {

    /** No snapshot: the log starts at index 1. */
    public static final SnapshotMeta NONE = new SnapshotMeta(0, 0);

    public SnapshotMeta {
        if (index < 0 || term < 0 || (index == 0) != (term == 0)) {
            throw new IllegalArgumentException("invalid snapshot point: index " + index + ", term " + term);
        }
    }

    /** A snapshot point whose configuration is not known here. */
    public SnapshotMeta(long index, long term) {
        this(index, term, null);
    }

    public SnapshotMeta withConfiguration(Configuration c) {
        return new SnapshotMeta(index, term, c);
    }

    public boolean isNone() {
        return index == 0;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotMeta s && s.index == index && s.term == term;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + Long.hashCode(term);
    }

    @Override
    public String toString() {
        return index + "@" + term;
    }
}
