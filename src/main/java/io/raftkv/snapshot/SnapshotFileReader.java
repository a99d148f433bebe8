package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Streams a snapshot file ({@link SnapshotFormat}) front to back: {@link #open} reads the header, {@link #next}
 * returns the records one by one and, after the last, checks the trailer and the CRC32C of the whole file (so a
 * consumer must not trust what it read until {@code next} has returned null). Every field is bounds-checked against
 * the file's size before anything is allocated; a damaged or truncated file fails with a
 * {@link SnapshotCorruptException} naming the file and the offset. Memory is one buffer plus one record.
 */
public final class SnapshotFileReader implements KvStateMachine.InstallSource, AutoCloseable {

    private static final int BUFFER = 256 * 1024;

    private final Path file;
    private final FileChannel channel;
    private final long size;
    private final byte[] b = new byte[BUFFER];
    private int pos;
    private int lim;
    private long base; // file offset of b[0]
    private int crcMark; // b[0..crcMark) is in crc
    private final CRC32C crc = new CRC32C();
    private final SnapshotHeader header;
    private long records;
    private String lastKey;
    private boolean verified;

    private SnapshotFileReader(Path file, FileChannel channel) throws IOException {
        this.file = file;
        this.channel = channel;
        this.size = channel.size();
        this.header = readHeader();
    }

    /** Opens {@code file} and reads its header. */
    public static SnapshotFileReader open(Path file) {
        Path abs = file.toAbsolutePath();
        FileChannel ch;
        try {
            ch = FileChannel.open(abs, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new StorageException("cannot open snapshot " + abs + ": " + e, e);
        }
        try {
            return new SnapshotFileReader(abs, ch);
        } catch (IOException e) {
            closeQuietly(ch);
            throw new StorageException("cannot read snapshot " + abs + ": " + e, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Reads the whole file and checks it; {@link SnapshotCorruptException} if it is damaged. Returns its header. */
    public static SnapshotHeader verify(Path file) {
        try (SnapshotFileReader r = open(file)) {
            while (r.next() != null) {
                // reading is checking
            }
            return r.header();
        }
    }

    public SnapshotHeader header() {
        return header;
    }

    public Path file() {
        return file;
    }

    /** The file's size in bytes. */
    public long size() {
        return size;
    }

    @Override
    public long index() {
        return header.meta().index();
    }

    @Override
    public long count() {
        return header.keyCount();
    }

    @Override
    public byte[] sessions() {
        return header.sessions().clone();
    }

    /**
     * The next record, or null after the last one once the trailer and the checksum of the whole file have been
     * verified.
     */
    @Override
    public KvEntry next() {
        if (verified) {
            return null;
        }
        try {
            if (records == header.keyCount()) {
                readTrailer();
                verified = true;
                return null;
            }
            long at = offset();
            String key = readString("key");
            if (lastKey != null && key.compareTo(lastKey) <= 0) {
                throw corrupt(at, "key '" + key + "' is not after the previous key '" + lastKey + "'");
            }
            long version = readVarLong("version", 1, header.meta().index());
            long createIndex = readVarLong("create index", 1, version);
            byte[] value = readBytes("value");
            records++;
            lastKey = key;
            return new KvEntry(key, value, version, createIndex);
        } catch (IOException e) {
            throw new StorageException("cannot read snapshot " + file + ": " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    // ------------------------------------------------------------------------------------------------- decoding

    private SnapshotHeader readHeader() throws IOException {
        int magic = readInt("magic");
        if (magic != SnapshotFormat.MAGIC) {
            throw corrupt(0, "not a raftkv snapshot (magic " + Integer.toHexString(magic) + ")");
        }
        int version = readByte("format version");
        if (version < SnapshotFormat.OLDEST_READABLE_VERSION || version > SnapshotFormat.VERSION) {
            throw corrupt(4, "unsupported format version " + version);
        }
        long index = readLong("index");
        if (index < 1) {
            throw corrupt(5, "index " + index + " (must be at least 1)");
        }
        long term = readLong("term");
        if (term < 1) {
            throw corrupt(13, "term " + term + " (must be at least 1)");
        }
        byte[] configuration = readBytes("configuration");
        byte[] sessions = version < SnapshotFormat.VERSION_WITH_SESSIONS ? new byte[0] : readBytes("sessions");
        long at = offset();
        long keyCount = readLong("key count");
        // every record takes at least 4 bytes: no count can exceed what the file could hold
        if (keyCount < 0 || keyCount > (size - offset()) / 4) {
            throw corrupt(at, "key count " + keyCount + " impossible in a file of " + size + " bytes");
        }
        return new SnapshotHeader(new SnapshotMeta(index, term), configuration, sessions, keyCount, offset(), version);
    }

    private void readTrailer() throws IOException {
        long at = offset();
        int magic = readInt("end marker");
        if (magic != SnapshotFormat.END_MAGIC) {
            throw corrupt(at, "expected the end marker after " + records + " records, found "
                    + Integer.toHexString(magic));
        }
        at = offset();
        long count = readLong("record count");
        if (count != records) {
            throw corrupt(at, "trailer counts " + count + " records, the file holds " + records);
        }
        at = offset();
        need(4, "checksum");
        crc.update(b, crcMark, pos - crcMark);
        crcMark = pos;
        int expected = (int) crc.getValue();
        int stored = readInt("checksum");
        if (stored != expected) {
            throw corrupt(at, "checksum mismatch (stored " + Integer.toHexString(stored) + ", computed "
                    + Integer.toHexString(expected) + ")");
        }
        if (offset() != size) {
            throw corrupt(offset(), (size - offset()) + " unexpected bytes after the trailer");
        }
    }

    private long offset() {
        return base + pos;
    }

    /** Makes sure {@code n <= BUFFER} bytes are buffered, or fails with a truncation error. */
    private void need(int n, String what) throws IOException {
        if (lim - pos >= n) {
            return;
        }
        if (offset() + n > size) {
            throw corrupt(offset(), "truncated: " + what + " needs " + n + " bytes, the file ends at " + size);
        }
        crc.update(b, crcMark, pos - crcMark);
        System.arraycopy(b, pos, b, 0, lim - pos);
        base += pos;
        lim -= pos;
        pos = 0;
        crcMark = 0;
        while (lim < n) {
            int r = channel.read(ByteBuffer.wrap(b, lim, b.length - lim), base + lim);
            if (r < 0) {
                throw corrupt(base + lim, "truncated: the file ended early (it shrank while being read?)");
            }
            lim += r;
        }
    }

    private int readByte(String what) throws IOException {
        need(1, what);
        return b[pos++] & 0xFF;
    }

    private int readInt(String what) throws IOException {
        need(4, what);
        int v = ((b[pos] & 0xFF) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    private long readLong(String what) throws IOException {
        long hi = readInt(what) & 0xFFFFFFFFL;
        long lo = readInt(what) & 0xFFFFFFFFL;
        return (hi << 32) | lo;
    }

    private long readVarLong(String what, long min, long max) throws IOException {
        long at = offset();
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            if (shift > 63) {
                throw corrupt(at, "malformed varint for " + what);
            }
            int x = readByte(what);
            if ((shift == 63 && (x & 0xFE) != 0) || (shift > 0 && x == 0)) {
                throw corrupt(at, "malformed varint for " + what);
            }
            v |= (long) (x & 0x7F) << shift;
            if ((x & 0x80) == 0) {
                break;
            }
        }
        if (v < min || v > max) {
            throw corrupt(at, what + " " + v + " out of range [" + min + ", " + max + "]");
        }
        return v;
    }

    private byte[] readBytes(String what) throws IOException {
        long at = offset();
        long n = readVarLong(what + " length", 0, Integer.MAX_VALUE - 16);
        if (offset() + n > size) {
            throw corrupt(at, "truncated: " + what + " of " + n + " bytes, the file ends at " + size);
        }
        byte[] out = new byte[(int) n];
        int done = 0;
        while (done < n) {
            int chunk = (int) Math.min(n - done, BUFFER);
            need(chunk, what);
            System.arraycopy(b, pos, out, done, chunk);
            pos += chunk;
            done += chunk;
        }
        return out;
    }

    private String readString(String what) throws IOException {
        long at = offset();
        byte[] utf8 = readBytes(what);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8))
                    .toString();
        } catch (CharacterCodingException e) {
            throw corrupt(at, "malformed UTF-8 in " + what);
        }
    }

    private SnapshotCorruptException corrupt(long at, String what) {
        return new SnapshotCorruptException(file, at, what);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    /** Size of {@code file}, or a StorageException naming it. */
    static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new StorageException("cannot read the size of " + file + ": " + e, e);
        }
    }
}
