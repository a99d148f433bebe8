package io.raftkv.storage;

import io.raftkv.raft.WritableLogStorage;

/**
 * A node's durable Raft log and hard state as the server holds it: what the runtime writes (compaction and snapshot
 * resets included), plus disk use and closing. Implementations: {@link io.raftkv.storage.wal.SegmentedLogStorage} (the default) and
 * {@link MapDbLogStorage}.
 */
public interface RaftLogStore extends WritableLogStorage, AutoCloseable {

    /** Bytes the store's files take on disk (their sizes). */
    long sizeOnDiskBytes();

    @Override
    void close();
}
