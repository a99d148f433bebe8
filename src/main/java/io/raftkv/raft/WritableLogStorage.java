package io.raftkv.raft;

import java.util.List;

/**
 * A {@link LogStorage} the runtime can write: what a {@link Ready} asks to persist. {@link #append} replaces any
 * entries at or after the first new index (a follower's conflict truncation).
 */
public interface WritableLogStorage extends LogStorage {

    /** Persists the hard state (if not null) and entries (possibly empty) durably, in one atomic step. */
    void save(HardState hardState, List<Entry> entries);

    /**
     * Discards the entries up to {@code throughIndex} ({@code firstIndex()-1 <= throughIndex <= lastIndex()}), which a
     * snapshot covers: the log then starts at {@code throughIndex + 1} and still answers {@code term(throughIndex)}.
     * Durable on return.
     */
    void compact(long throughIndex);

    /**
     * Discards every entry and makes the log start right after snapshot point {@code s}: afterwards
     * {@code firstIndex() == s.index() + 1}, {@code lastIndex() == s.index()}, {@code term(s.index()) == s.term()}.
     * The hard state is kept. Durable and atomic on return (the install of a snapshot from the leader).
     */
    void resetTo(SnapshotMeta s);
}
