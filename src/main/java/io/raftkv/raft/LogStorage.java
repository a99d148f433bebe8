package io.raftkv.raft;

import java.util.List;

/**
 * The read side of a node's durable Raft state, as the consensus core sees it. Everything here has been persisted by
 * the runtime (after a {@link Ready}). Implementations: MapDB for real nodes, memory for the simulation.
 * <p>
 * Indexes are contiguous from {@link #firstIndex()} to {@link #lastIndex()}. {@code term(firstIndex() - 1)} must be
 * answerable (0 for an uncompacted log): it is the term of the entry before the first one, which a future snapshot
 * records.
 */
public interface LogStorage {

    /** The persisted term, vote and commit index; {@link HardState#EMPTY} for a new node. */
    HardState hardState();

    /** Index of the first entry held (1 for an uncompacted log). */
    long firstIndex();

    /** Index of the last entry held ({@code firstIndex() - 1} when empty). */
    long lastIndex();

    /** Term of the entry at {@code index}, for {@code firstIndex()-1 <= index <= lastIndex()}. */
    long term(long index);

    /** Entries in {@code [lo, hi)}, stopping early (but returning at least one) once {@code maxBytes} is reached. */
    List<Entry> entries(long lo, long hi, long maxBytes);
}
