package io.raftkv.statemachine;

import io.raftkv.raft.Entry;

import java.util.List;

/**
 * What the runtime applies committed log entries to.
 * <p>
 * {@link #apply} takes effect in memory (and in the store's open transaction) immediately: reads see it at once.
 * {@link #flush} makes everything applied so far durable together with {@link #lastApplied()}, atomically, so after a
 * crash the state and lastApplied are both those of the last flush and the node re-applies the rest from its log:
 * no entry is lost or applied twice.
 */
public interface StateMachine extends AutoCloseable {

    /** Index of the last entry applied (0 if none). */
    long lastApplied();

    /**
     * Applies committed entries in index order and returns one result per entry applied. Entries at or below
     * {@link #lastApplied()} are skipped (re-delivery after a restart) and get no result; an entry beyond
     * {@code lastApplied() + 1} is a gap and an {@link IllegalStateException} (entries before it stay applied).
     */
    List<ApplyResult> apply(List<Entry> committed);

    /** Makes everything applied so far durable (one commit); a no-op if nothing was applied since the last flush. */
    void flush();

    /** Flushes and closes. */
    @Override
    void close();
}
