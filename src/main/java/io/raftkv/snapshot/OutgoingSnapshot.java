package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;

/**
 * A snapshot file opened for sending to a follower in chunks: {@link #size()} bytes in total,
 * {@link #read(long, int)} any byte range (the leader sends chunk after chunk and resumes at the offset the follower
 * reports), or {@link #inputStream()} for the whole file. Keeps the file open, so its content stays readable even if
 * the store deletes it meanwhile. Reads may come from several threads (positional reads).
 */
public final class OutgoingSnapshot implements AutoCloseable {

    private final SnapshotInfo info;
    private final FileChannel channel;
    private final long size;

    private OutgoingSnapshot(SnapshotInfo info, FileChannel channel, long size) {
        this.info = info;
        this.channel = channel;
        this.size = size;
    }

    static OutgoingSnapshot open(SnapshotInfo info) {
        FileChannel ch;
        try {
            ch = FileChannel.open(info.file(), StandardOpenOption.READ);
        } catch (IOException e) {
            throw new StorageException("cannot open snapshot " + info.file() + " for sending: " + e, e);
        }
        try {
            return new OutgoingSnapshot(info, ch, ch.size());
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // already failing
            }
            throw new StorageException("cannot read snapshot " + info.file() + ": " + e, e);
        }
    }

    public SnapshotMeta meta() {
        return info.meta();
    }

    public SnapshotInfo info() {
        return info;
    }

    /** Total bytes to send. */
    public long size() {
        return size;
    }

    /**
     * Up to {@code maxBytes} bytes starting at {@code offset} (fewer only at the end of the file; empty at
     * {@code offset == size()}).
     */
    public byte[] read(long offset, int maxBytes) {
        if (offset < 0 || offset > size || maxBytes < 0) {
            throw new IllegalArgumentException("range " + offset + "+" + maxBytes + " outside snapshot "
                    + info.file() + " of " + size + " bytes");
        }
        int n = (int) Math.min(maxBytes, size - offset);
        ByteBuffer buf = ByteBuffer.allocate(n);
        try {
            while (buf.hasRemaining()) {
                int r = channel.read(buf, offset + buf.position());
                if (r < 0) {
                    throw new StorageException("snapshot " + info.file() + " shrank while being sent");
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot read snapshot " + info.file() + ": " + e, e);
        }
        return buf.array();
    }

    /** The whole file as a stream from its first byte (closing it closes this). */
    public InputStream inputStream() {
        try {
            channel.position(0);
        } catch (IOException e) {
            throw new StorageException("cannot read snapshot " + info.file() + ": " + e, e);
        }
        return Channels.newInputStream(channel);
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // read-only
        }
    }
}
