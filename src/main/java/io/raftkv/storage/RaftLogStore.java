package io.raftkv.storage;

import io.raftkv.raft.WritableLogStorage;

/**
 * A node's durable Raft log and hard state as the server holds it: what the runtime writes, plus compaction, disk use
 * and closing. Implementations: {@link io.raftkv.storage.wal.SegmentedLogStorage} (the default) and
 * {@link MapDbLogStorage}.
 */
public interface RaftLogStore extends WritableLogStorage, AutoCloseable {

    /**
     * Discards the entries up to {@code throughIndex} (which a snapshot now covers), durably: the log then starts at
     * {@code throughIndex + 1} and still answers {@code term(throughIndex)}.
     */
    void compact(long throughIndex);

    /** Bytes the store's files take on disk (their sizes). */
    long sizeOnDiskBytes();

    @Override
    void close();
}
