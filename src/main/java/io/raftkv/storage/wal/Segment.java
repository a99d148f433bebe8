package io.raftkv.storage.wal;

import io.raftkv.raft.Entry;
import io.raftkv.storage.EntryCodec;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One segment file and the in-memory index of the live entries it holds: the term of every such index and, for each
 * entries record, its first index, byte offset and length. Dropped with the segment. Not thread-safe (the storage
 * synchronizes).
 */
final class Segment {

    final Path path;
    final WalFormat.Header header;
    FileChannel channel;
    /** Where the next record goes (the end of the valid records). */
    long writePos;
    /** Bytes records may use before the storage rolls to a new segment. */
    long capacity;
    /** Whether the segment begins with the log start and hard state records (so older segments can go). */
    boolean hasHead;

    // live entries [liveFirst, liveFirst + count)
    private long liveFirst;
    private int count;
    private long[] terms = new long[64];
    // records holding live entries, ascending first index
    private int recCount;
    private long[] recFirst = new long[8];
    private long[] recPos = new long[8];
    private int[] recLen = new int[8];

    Segment(Path path, WalFormat.Header header, FileChannel channel) {
        this.path = path;
        this.header = header;
        this.channel = channel;
        this.liveFirst = header.firstIndex();
    }

    long firstIndex() {
        return header.firstIndex();
    }

    int count() {
        return count;
    }

    long liveFirst() {
        return liveFirst;
    }

    long liveLast() {
        return liveFirst + count - 1;
    }

    boolean holds(long index) {
        return count > 0 && index >= liveFirst && index < liveFirst + count;
    }

    long term(long index) {
        return terms[(int) (index - liveFirst)];
    }

    /** Indexes the entries record at {@code pos} ({@code len} bytes framed), which must continue the live entries. */
    void addRecord(long pos, int len, Entry[] entries) {
        long first = entries[0].index();
        if (count == 0) {
            liveFirst = first;
        } else if (first != liveFirst + count) {
            throw new IllegalStateException("record of entries from " + first + " does not follow " + liveLast());
        }
        if (count + entries.length > terms.length) {
            long want = Math.max((long) terms.length * 2, (long) count + entries.length);
            if (want > Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("segment " + path + " holds too many entries");
            }
            terms = Arrays.copyOf(terms, (int) want);
        }
        for (Entry e : entries) {
            terms[count++] = e.term();
        }
        if (recCount == recFirst.length) {
            recFirst = Arrays.copyOf(recFirst, recCount * 2);
            recPos = Arrays.copyOf(recPos, recCount * 2);
            recLen = Arrays.copyOf(recLen, recCount * 2);
        }
        recFirst[recCount] = first;
        recPos[recCount] = pos;
        recLen[recCount] = len;
        recCount++;
    }

    /** Forgets the live entries after {@code keepLast} (a conflict truncation). */
    void truncateAfter(long keepLast) {
        if (count == 0 || keepLast >= liveLast()) {
            return;
        }
        if (keepLast < liveFirst) {
            count = 0;
            recCount = 0;
            return;
        }
        count = (int) (keepLast - liveFirst + 1);
        while (recCount > 0 && recFirst[recCount - 1] > keepLast) {
            recCount--;
        }
    }

    /** Position in the record table of the record holding live index {@code index}. */
    int recordFor(long index) {
        int lo = 0;
        int hi = recCount - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (recFirst[mid] <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    long recordPos(int r) {
        return recPos[r];
    }

    int recordLen(int r) {
        return recLen[r];
    }

    /** The index after the last live entry of record {@code r}. */
    long recordEnd(int r) {
        return r + 1 < recCount ? recFirst[r + 1] : liveFirst + count;
    }

    long recordFirst(int r) {
        return recFirst[r];
    }

    /**
     * Reads entries record {@code r} from the file and checks it (frame header, payload checksum, {@link EntryCodec}
     * run starting where the index says); a {@link StorageException} naming the file and byte offset if it is damaged.
     */
    Entry[] readRecord(int r) {
        long pos = recordPos(r);
        byte[] frame;
        try {
            frame = read(channel, pos, recordLen(r));
        } catch (IOException e) {
            throw new StorageException("cannot read raft log segment " + path + " at byte offset " + pos + ": "
                    + MapDbFiles.describe(e), e);
        }
        String bad = frame.length < WalFormat.FRAME_BYTES ? "short read"
                : WalFormat.checkFrameHeader(Arrays.copyOf(frame, WalFormat.FRAME_BYTES));
        ByteBuffer b = ByteBuffer.wrap(frame);
        if (bad == null && (frame.length != recordLen(r)
                || WalFormat.crc(frame, WalFormat.FRAME_BYTES, frame.length - WalFormat.FRAME_BYTES) != b.getInt(8))) {
            bad = "record checksum mismatch";
        }
        Entry[] run = null;
        try {
            if (bad == null) {
                run = EntryCodec.decode(Arrays.copyOfRange(frame, WalFormat.FRAME_BYTES, frame.length));
                if (run[0].index() != recordFirst(r)) {
                    bad = "the record holds entries from " + run[0].index() + ", not " + recordFirst(r);
                }
            }
        } catch (IllegalArgumentException e) {
            bad = e.getMessage();
        }
        if (bad != null) {
            throw new StorageException("raft log segment " + path + " is damaged at byte offset " + pos + ": " + bad);
        }
        return run;
    }

    /** Reads exactly {@code len} bytes at {@code pos} (fewer if the file ends first). */
    static byte[] read(FileChannel ch, long pos, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                break;
            }
        }
        return b.position() == len ? b.array() : Arrays.copyOf(b.array(), b.position());
    }

    /** Writes all of {@code bytes} at {@code pos}. */
    static void write(FileChannel ch, long pos, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b, pos + b.position());
        }
    }

    /** Offset of the first non-zero byte in {@code [from, to)}, or -1 if they are all zero. */
    static long firstNonZero(FileChannel ch, long from, long to) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        long pos = from;
        while (pos < to) {
            b.clear();
            b.limit((int) Math.min(b.capacity(), to - pos));
            int n = ch.read(b, pos);
            if (n <= 0) {
                return -1;
            }
            byte[] a = b.array();
            for (int i = 0; i < n; i++) {
                if (a[i] != 0) {
                    return pos + i;
                }
            }
            pos += n;
        }
        return -1;
    }

    void close() {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // read-only use left; nothing to lose
        }
        channel = null;
    }
}
