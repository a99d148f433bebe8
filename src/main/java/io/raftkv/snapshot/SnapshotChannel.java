package io.raftkv.snapshot;

/**
 * How a leader's snapshot chunks reach a follower: a stream per transfer, one chunk at a time, each answered with
 * the status codes of the snapshot exchange (see {@link KvNodeSnapshots}).
 */
public interface SnapshotChannel {

    ChunkStream openChunks(String peerId) throws Exception;

    /** The follower's answer to one chunk. */
    record Reply(int status, long expectedOffset, String detail) {
    }

    interface ChunkStream extends AutoCloseable {
        Reply send(long term, long index, long snapshotTerm, long offset, long total, byte[] data) throws Exception;

        @Override
        void close();
    }
}
