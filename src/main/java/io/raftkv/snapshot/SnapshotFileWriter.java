package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.storage.BinaryWriter;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Writes one snapshot file ({@link SnapshotFormat}) front to back into a temporary file of a {@link SnapshotStore};
 * {@link #finish} completes, syncs and publishes it under its final name, {@link #abort} deletes it. Memory is one
 * buffer, whatever the snapshot size. One thread at a time.
 */
public final class SnapshotFileWriter implements AutoCloseable {

    private static final int BUFFER = 256 * 1024;

    private final SnapshotStore store;
    private final Path tmp;
    private final SnapshotMeta meta;
    private final long keyCount;
    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocate(BUFFER);
    private final CRC32C crc = new CRC32C();
    private long records;
    private String lastKey;
    private boolean ended;

    SnapshotFileWriter(SnapshotStore store, Path tmp, SnapshotMeta meta, byte[] configuration, byte[] sessions,
                       long keyCount) {
        if (meta.isNone()) {
            throw new IllegalArgumentException("a snapshot covers at least one entry: " + meta);
        }
        if (keyCount < 0) {
            throw new IllegalArgumentException("negative key count " + keyCount);
        }
        Objects.requireNonNull(configuration, "configuration");
        Objects.requireNonNull(sessions, "sessions");
        this.store = store;
        this.tmp = tmp;
        this.meta = meta;
        this.keyCount = keyCount;
        try {
            channel = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StorageException("cannot create snapshot file " + tmp + ": " + e, e);
        }
        try {
            putInt(SnapshotFormat.MAGIC);
            putByte(SnapshotFormat.VERSION);
            putLong(meta.index());
            putLong(meta.term());
            putVarLong(configuration.length);
            put(configuration);
            putVarLong(sessions.length);
            put(sessions);
            putLong(keyCount);
        } catch (RuntimeException e) {
            abort();
            throw e;
        }
    }

    public SnapshotMeta meta() {
        return meta;
    }

    /** Records written so far. */
    public long records() {
        return records;
    }

    /** Appends the next key (strictly after the previous one) with its version, create index and value. */
    public void append(KvEntry e) {
        append(e.key(), e.version(), e.createIndex(), e.value());
    }

    /** Appends the next key (strictly after the previous one) with its version, create index and value. */
    public void append(String key, long version, long createIndex, byte[] value) {
        ensureOpen();
        if (lastKey != null && key.compareTo(lastKey) <= 0) {
            throw new IllegalArgumentException("snapshot keys must be in increasing order: '" + key + "' after '"
                    + lastKey + "'");
        }
        if (version < 1 || version > meta.index() || createIndex < 1 || createIndex > version) {
            throw new IllegalArgumentException("key '" + key + "': version " + version + ", create index "
                    + createIndex + " impossible in a snapshot at index " + meta.index());
        }
        if (records == keyCount) {
            throw new IllegalStateException("snapshot " + tmp + " announced " + keyCount + " keys, got more");
        }
        byte[] k = BinaryWriter.utf8(key);
        putVarLong(k.length);
        put(k);
        putVarLong(version);
        putVarLong(createIndex);
        putVarLong(value.length);
        put(value);
        records++;
        lastKey = key;
    }

    /**
     * Writes the trailer, syncs the file and publishes it in the store (renamed to its final name, directory synced,
     * older snapshots beyond the newest two deleted). Fails, deleting the file, unless exactly the announced number of
     * keys was appended.
     */
    public SnapshotInfo finish() {
        ensureOpen();
        try {
            if (records != keyCount) {
                throw new IllegalStateException("snapshot at " + meta + " announced " + keyCount + " keys but "
                        + records + " were written");
            }
            putInt(SnapshotFormat.END_MAGIC);
            putLong(records);
            flushBuffer();
            buf.putInt((int) crc.getValue());
            buf.flip();
            writeFully(buf);
            channel.force(true);
            channel.close();
            ended = true;
        } catch (IOException e) {
            abort();
            throw new StorageException("cannot write snapshot file " + tmp + ": " + e, e);
        } catch (RuntimeException e) {
            abort();
            throw e;
        }
        return store.publish(tmp, meta);
    }

    /** Stops writing and deletes the temporary file. Idempotent; does nothing after {@link #finish}. */
    public void abort() {
        if (ended) {
            return;
        }
        ended = true;
        PartialFile.discard(channel, tmp, "partial snapshot file");
    }

    /** {@link #abort} unless finished. */
    @Override
    public void close() {
        abort();
    }

    private void ensureOpen() {
        if (ended) {
            throw new IllegalStateException("snapshot writer for " + tmp + " is finished or aborted");
        }
    }

    // ------------------------------------------------------------------------------------------------- encoding

    private void room(int n) {
        if (buf.remaining() < n) {
            flushBuffer();
        }
    }

    private void putByte(int b) {
        room(1);
        buf.put((byte) b);
    }

    private void putInt(int v) {
        room(4);
        buf.putInt(v);
    }

    private void putLong(long v) {
        room(8);
        buf.putLong(v);
    }

    private void putVarLong(long v) {
        room(10);
        while ((v & ~0x7FL) != 0) {
            buf.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        buf.put((byte) v);
    }

    private void put(byte[] b) {
        if (b.length <= buf.remaining()) {
            buf.put(b);
            return;
        }
        flushBuffer();
        if (b.length <= buf.capacity()) {
            buf.put(b);
            return;
        }
        crc.update(b, 0, b.length);
        writeFully(ByteBuffer.wrap(b));
    }

    private void flushBuffer() {
        buf.flip();
        crc.update(buf.array(), 0, buf.limit());
        writeFully(buf);
        buf.clear();
    }

    private void writeFully(ByteBuffer b) {
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } catch (IOException e) {
            throw new StorageException("cannot write snapshot file " + tmp + ": " + e, e);
        }
    }
}
