package io.raftkv.raft;

import java.util.List;

/**
 * A {@link LogStorage} the runtime can write: what a {@link Ready} asks to persist. {@link #append} replaces any
 * entries at or after the first new index (a follower's conflict truncation).
 */
public interface WritableLogStorage extends LogStorage {

    /** Persists the hard state (if not null) and entries (possibly empty) durably, in one atomic step. */
    void save(HardState hardState, List<Entry> entries);
}
