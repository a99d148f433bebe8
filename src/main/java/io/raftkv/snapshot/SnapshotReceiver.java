package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A snapshot being received from the leader, chunk by chunk, into a temporary file of the {@link SnapshotStore}
 * ({@link SnapshotStore#beginReceive}). Chunks must come in order: each starts exactly at {@link #receivedBytes()};
 * anything else is an {@link OutOfOrderChunkException} telling the sender where to resume. {@link #finish} checks the
 * whole file (checksum, header against the announced index and term, size) before publishing it as a snapshot;
 * {@link #abort} deletes the partial file. Only the current chunk is ever in memory. Thread-safe.
 */
public final class SnapshotReceiver implements AutoCloseable {

    private final SnapshotStore store;
    private final Path tmp;
    private final SnapshotMeta meta;
    private final long totalBytes;
    private final FileChannel channel;
    private long received;
    private boolean ended;

    SnapshotReceiver(SnapshotStore store, Path tmp, SnapshotMeta meta, long totalBytes) {
        this.store = store;
        this.tmp = tmp;
        this.meta = meta;
        this.totalBytes = totalBytes;
        try {
            channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StorageException("cannot create " + tmp + " to receive snapshot " + meta + ": " + e, e);
        }
    }

    public SnapshotMeta meta() {
        return meta;
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** Bytes received so far: where the next chunk must start. */
    public synchronized long receivedBytes() {
        return received;
    }

    /** Not yet finished or aborted. */
    public synchronized boolean isActive() {
        return !ended;
    }

    /** {@link #accept(long, byte[], int, int)} of the whole array. */
    public void accept(long offset, byte[] chunk) {
        accept(offset, chunk, 0, chunk.length);
    }

    /**
     * Writes {@code chunk[from, from + length)} at {@code offset}, which must be {@link #receivedBytes()}; the chunk
     * must not go past the announced total.
     */
    public synchronized void accept(long offset, byte[] chunk, int from, int length) {
        ensureActive();
        if (from < 0 || length < 0 || from + length > chunk.length) {
            throw new IndexOutOfBoundsException("chunk range " + from + "+" + length + " of " + chunk.length);
        }
        if (offset != received) {
            throw new OutOfOrderChunkException("snapshot " + meta + ": chunk at offset " + offset + " but "
                    + received + " bytes received so far (" + (offset > received ? "a gap" : "an overlap")
                    + "); resume at " + received, received);
        }
        if (offset + length > totalBytes) {
            throw new IllegalArgumentException("snapshot " + meta + ": chunk " + offset + "+" + length
                    + " goes past the announced size of " + totalBytes + " bytes");
        }
        ByteBuffer buf = ByteBuffer.wrap(chunk, from, length);
        try {
            while (buf.hasRemaining()) {
                channel.write(buf, offset + (buf.position() - from));
            }
        } catch (IOException e) {
            abort();
            throw new StorageException("cannot write " + tmp + " (receiving snapshot " + meta + "): " + e, e);
        }
        received += length;
    }

    /**
     * Checks and publishes the received snapshot: every byte must have arrived, the file must read back intact and its
     * header must name the announced index and term. Then it is synced and renamed to its final name atomically (the
     * newest snapshot from then on) and older snapshots beyond the newest two are deleted. If any check fails the
     * partial file is deleted, nothing is replaced, and the exception says why.
     */
    public synchronized SnapshotInfo finish() {
        ensureActive();
        if (received != totalBytes) {
            throw new IllegalStateException("snapshot " + meta + ": " + received + " of " + totalBytes
                    + " bytes received; resume at " + received);
        }
        try {
            channel.force(true);
            channel.close();
        } catch (IOException e) {
            abort();
            throw new StorageException("cannot sync " + tmp + " (receiving snapshot " + meta + "): " + e, e);
        }
        try {
            try (SnapshotFileReader r = SnapshotFileReader.open(tmp)) {
                SnapshotStore.checkHeader(r.header(), meta, tmp);
                while (r.next() != null) {
                    // reading is checking
                }
            }
            SnapshotInfo info = store.publish(tmp, meta);
            ended = true;
            return info;
        } catch (RuntimeException e) {
            abort();
            throw e;
        }
    }

    /** Stops receiving and deletes the partial file. Idempotent; does nothing after a successful {@link #finish}. */
    public synchronized void abort() {
        if (ended) {
            return;
        }
        ended = true;
        PartialFile.discard(channel, tmp, "partial snapshot");
    }

    /** {@link #abort} unless finished. */
    @Override
    public void close() {
        abort();
    }

    private void ensureActive() {
        if (ended) {
            throw new IllegalStateException("the transfer of snapshot " + meta + " into " + tmp
                    + " is finished or aborted");
        }
    }

    @Override
    public String toString() {
        return "SnapshotReceiver{" + meta + ", " + received + "/" + totalBytes + " bytes}";
    }
}
