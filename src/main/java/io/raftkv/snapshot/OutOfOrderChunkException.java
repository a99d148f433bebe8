package io.raftkv.snapshot;

/**
 * A snapshot chunk does not start where the received bytes end (a gap or an overlap): the sender should resume at
 * {@link #expectedOffset()}. Nothing was written.
 */
public class OutOfOrderChunkException extends IllegalArgumentException {

    private final long expectedOffset;

    public OutOfOrderChunkException(String message, long expectedOffset) {
        super(message);
        this.expectedOffset = expectedOffset;
    }

    /** Where the next chunk must start ({@link SnapshotReceiver#receivedBytes()}). */
    public long expectedOffset() {
        return expectedOffset;
    }
}
