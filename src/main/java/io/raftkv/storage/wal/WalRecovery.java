package io.raftkv.storage.wal;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.storage.EntryCodec;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the segments of a WAL directory back into memory, writing nothing. The result says what {@link
 * SegmentedLogStorage} must repair once it decides to open: a torn save at the tail of the newest segment to zero,
 * and files to delete (a newest segment whose creation never completed, segments superseded by a truncation that
 * replaced them). Any other damage throws a {@link StorageException} naming the file and byte offset.
 * <p>
 * Segments are read in name (first index) order. A segment whose sequence number is lower than that of a segment
 * named before it was superseded by a conflict truncation that started a new segment at a lower index (the crash
 * came before its deletion); such segments come last and are ignored.
 */
final class WalRecovery {

    final List<Segment> segments = new ArrayList<>();
    final List<Path> toDelete = new ArrayList<>();
    long logStart;
    long logStartTerm;
    long lastIndex;
    HardState hardState = HardState.EMPTY;
    /** The torn save at the tail of the newest segment, {@code [tornFrom, tornTo)}; -1 if none. */
    long tornFrom = -1;
    long tornTo = -1;
    /** The segment holding the torn save and what was wrong at its first bad record (null if none). */
    Path tornFile;
    long tornAt = -1;
    String tornWhy;
    /** Read-only scans ({@link #scanReadOnly}): keep what was read before damage instead of throwing. */
    private boolean lenient;
    /** The damage that stopped a read-only scan, or null. */
    Damage damage;

    private record Pending(long pos, int len, int type, byte[] payload) {
    }

    private WalRecovery() {
    }

    /** Scans {@code files} (segment files, ascending first index). The caller closes the returned segments. */
    static WalRecovery scan(List<Path> files) {
        return scan(files, false);
    }

    /**
     * Scans as {@link #scan} does, for tools that only look (the offline dump): damage does not throw but stops the
     * scan and is kept in {@link #damage}; everything read before it stays in the result. Writes nothing.
     */
    static WalRecovery scanReadOnly(List<Path> files) {
        return scan(files, true);
    }

    private static WalRecovery scan(List<Path> files, boolean lenient) {
        WalRecovery r = new WalRecovery();
        r.lenient = lenient;
        try {
            r.run(files);
        } catch (IOException e) {
            r.closeAll();
            throw new StorageException("cannot read the raft log segments: " + e, e);
        } catch (RuntimeException e) {
            r.closeAll();
            throw e;
        }
        return r;
    }

    /** Damage found by a read-only scan: rethrown by a normal one. */
    private void stop(Damage d) {
        if (!lenient) {
            throw d;
        }
        damage = d;
    }

    private void run(List<Path> files) throws IOException {
        try {
            readHeaders(files);
        } catch (Damage d) {
            stop(d);
        }
        dropSuperseded();
        // Record scanning needs to know which segment is the newest (the only one that may end in a torn save).
        for (int i = 0; i < segments.size(); i++) {
            try {
                scanRecords(segments.get(i), i == segments.size() - 1, i == 0);
            } catch (Damage d) {
                stop(d);
                break;
            }
        }
    }

    private void readHeaders(List<Path> files) throws IOException {
        long maxSeq = 0;
        boolean sawStale = false;
        for (int i = 0; i < files.size(); i++) {
            Path path = files.get(i);
            long nameIndex = WalFormat.parseFileName(path.getFileName().toString());
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            WalFormat.Header h;
            try {
                h = WalFormat.decodeHeader(Segment.read(ch, 0, WalFormat.HEADER_BYTES));
            } catch (IllegalArgumentException e) {
                long nz = Segment.firstNonZero(ch, WalFormat.HEADER_BYTES, ch.size());
                ch.close();
                if (i == files.size() - 1 && nz < 0 && (!segments.isEmpty() || nameIndex == 1)) {
                    // created but never synced: a crash before its first write was durable; it holds nothing
                    toDelete.add(path);
                    break;
                }
                throw corrupt(path, offsetIn(e.getMessage()), e.getMessage()
                        + (nz >= 0 ? " (and it holds data from offset " + nz + ")" : ""));
            }
            if (h.firstIndex() != nameIndex) {
                ch.close();
                throw corrupt(path, 16, "the header says the segment starts at index " + h.firstIndex()
                        + ", its name says " + nameIndex);
            }
            if (h.sequence() <= maxSeq) {
                ch.close();
                if (h.sequence() == maxSeq) {
                    throw corrupt(path, 32, "sequence number " + h.sequence() + " is used twice");
                }
                sawStale = true; // superseded by a truncation into an earlier segment
                toDelete.add(path);
                continue;
            }
            if (sawStale) {
                ch.close();
                throw corrupt(path, 32, "a segment newer than the segments before it follows a superseded one");
            }
            maxSeq = h.sequence();
            Segment seg = new Segment(path, h, ch);
            startSegment(seg);
            segments.add(seg);
        }
    }

    private void dropSuperseded() throws IOException {
        // A segment whose head says the log starts at its own first index (a reset to a snapshot, or a roll after
        // compacting everything) supersedes every segment before it: a crash may have come before their deletion.
        for (int i = segments.size() - 1; i > 0; i--) {
            if (startsTheLog(segments.get(i))) {
                for (int k = 0; k < i; k++) {
                    segments.get(k).close();
                    toDelete.add(segments.get(k).path);
                }
                segments.subList(0, i).clear();
                WalFormat.Header h = segments.get(0).header;
                lastIndex = h.firstIndex() - 1;
                logStart = h.firstIndex();
                logStartTerm = h.prevTerm();
                break;
            }
        }
    }

    /** Whether the segment's first record is an intact log start at the segment's own first index. */
    private static boolean startsTheLog(Segment seg) throws IOException {
        FileChannel ch = seg.channel;
        long pos = WalFormat.HEADER_BYTES;
        if (pos + WalFormat.FRAME_BYTES > ch.size()) {
            return false;
        }
        byte[] h = Segment.read(ch, pos, WalFormat.FRAME_BYTES);
        if (isZero(h) || WalFormat.checkFrameHeader(h) != null || (h[4] & 0x7F) != WalFormat.TYPE_LOG_START) {
            return false;
        }
        int length = ByteBuffer.wrap(h).getInt(0);
        if (pos + WalFormat.FRAME_BYTES + length > ch.size()) {
            return false;
        }
        byte[] payload = Segment.read(ch, pos + WalFormat.FRAME_BYTES, length);
        if (WalFormat.crc(payload, 0, length) != ByteBuffer.wrap(h).getInt(8)) {
            return false;
        }
        long[] ls = WalFormat.decodeLogStart(payload);
        return ls[0] == seg.firstIndex() && ls[1] == seg.header.prevTerm();
    }

    /** Checks how a segment continues the log before it (header only; its records follow in scanRecords). */
    private void startSegment(Segment seg) {
        WalFormat.Header h = seg.header;
        if (segments.isEmpty()) {
            lastIndex = h.firstIndex() - 1;
            logStart = h.firstIndex();
            logStartTerm = h.prevTerm();
        }
    }

    private void checkBoundary(Segment seg) {
        WalFormat.Header h = seg.header;
        if (h.firstIndex() > lastIndex + 1) {
            throw corrupt(seg.path, 16, "gap: the segment starts at index " + h.firstIndex()
                    + " but the log before it ends at " + lastIndex);
        }
        if (h.firstIndex() < logStart) {
            throw corrupt(seg.path, 16, "the segment starts at index " + h.firstIndex() + ", before the log start "
                    + logStart);
        }
        long t = termAt(h.firstIndex() - 1);
        if (t != h.prevTerm()) {
            throw corrupt(seg.path, 24, "the segment says entry " + (h.firstIndex() - 1) + " has term " + h.prevTerm()
                    + " but the log before it says " + t);
        }
        truncateAfter(h.firstIndex() - 1);
    }

    private void scanRecords(Segment seg, boolean newest, boolean oldest) throws IOException {
        if (!oldest) {
            checkBoundary(seg);
        }
        FileChannel ch = seg.channel;
        long len = ch.size();
        long pos = WalFormat.HEADER_BYTES;
        long groupStart = pos;
        List<Pending> pending = new ArrayList<>();
        boolean firstGroup = true;
        while (true) {
            if (pos + WalFormat.FRAME_BYTES > len) {
                if (Segment.firstNonZero(ch, pos, len) >= 0) {
                    torn(seg, newest, groupStart, pos, len, "incomplete record header");
                    return;
                }
                break;
            }
            byte[] h = Segment.read(ch, pos, WalFormat.FRAME_BYTES);
            if (isZero(h)) {
                long nz = Segment.firstNonZero(ch, pos, len);
                if (nz >= 0) {
                    throw corrupt(seg.path, nz, "non-zero bytes after the end of the records (at offset " + pos + ")");
                }
                break;
            }
            String bad = WalFormat.checkFrameHeader(h);
            if (bad != null) {
                torn(seg, newest, groupStart, pos, pos + WalFormat.FRAME_BYTES, bad);
                return;
            }
            ByteBuffer b = ByteBuffer.wrap(h);
            int length = b.getInt(0);
            long end = pos + WalFormat.FRAME_BYTES + length;
            if (end > len) {
                torn(seg, newest, groupStart, pos, len, "a record of " + length + " bytes runs past the end of the"
                        + " file (" + len + " bytes)");
                return;
            }
            byte[] payload = Segment.read(ch, pos + WalFormat.FRAME_BYTES, length);
            if (WalFormat.crc(payload, 0, length) != b.getInt(8)) {
                torn(seg, newest, groupStart, pos, end, "record checksum mismatch");
                return;
            }
            int type = h[4] & 0x7F;
            if (type < WalFormat.TYPE_ENTRIES || type > WalFormat.TYPE_LOG_START) {
                throw corrupt(seg.path, pos + 4, "unknown record type " + type);
            }
            pending.add(new Pending(pos, (int) (end - pos), type, payload));
            pos = end;
            if ((h[4] & WalFormat.FLAG_CONTINUES) == 0) {
                apply(seg, pending, firstGroup);
                firstGroup = false;
                pending.clear();
                groupStart = pos;
            }
        }
        if (!pending.isEmpty()) {
            if (!newest) {
                throw corrupt(seg.path, groupStart, "incomplete save at the end of an older segment");
            }
            tornFrom = groupStart;
            tornTo = pos;
            tornFile = seg.path;
            tornAt = groupStart;
            tornWhy = "the last save is incomplete (its final record is missing)";
        }
        seg.writePos = groupStart;
        seg.hasHead = !firstGroup;
    }

    /** A damaged record at {@code at}: a torn last save if this is the newest segment and only zeros follow. */
    private void torn(Segment seg, boolean newest, long groupStart, long at, long claimedEnd, String why)
            throws IOException {
        long len = seg.channel.size();
        long end = Math.min(claimedEnd, len);
        if (!newest) {
            throw corrupt(seg.path, at, why + " in a segment that is not the newest");
        }
        long nz = Segment.firstNonZero(seg.channel, end, len);
        if (nz >= 0) {
            throw corrupt(seg.path, at, why + ", and more data follows at offset " + nz);
        }
        tornFrom = groupStart;
        tornTo = end;
        tornFile = seg.path;
        tornAt = at;
        tornWhy = why;
        seg.writePos = groupStart;
        seg.hasHead = groupStart > WalFormat.HEADER_BYTES;
    }

    private void apply(Segment seg, List<Pending> group, boolean firstGroup) {
        if (firstGroup && group.get(0).type() != WalFormat.TYPE_LOG_START) {
            throw corrupt(seg.path, group.get(0).pos(), "the segment does not begin with a log start record");
        }
        for (Pending p : group) {
            try {
                switch (p.type()) {
                    case WalFormat.TYPE_LOG_START -> {
                        long[] ls = WalFormat.decodeLogStart(p.payload());
                        applyLogStart(seg, p.pos(), ls[0], ls[1]);
                    }
                    case WalFormat.TYPE_HARD_STATE -> hardState = WalFormat.decodeHardState(p.payload());
                    default -> applyEntries(seg, p, EntryCodec.decode(p.payload()));
                }
            } catch (IllegalArgumentException e) {
                throw corrupt(seg.path, p.pos(), "undecodable record (" + e.getMessage() + ")");
            }
        }
    }

    private void applyLogStart(Segment seg, long pos, long first, long prevTerm) {
        if (first < logStart) {
            return; // an older log start, repeated at the head of this segment
        }
        if (first > lastIndex + 1) {
            throw corrupt(seg.path, pos, "the log start " + first + " is beyond the last entry " + lastIndex);
        }
        long t = termAt(first - 1);
        if (t != prevTerm) {
            throw corrupt(seg.path, pos, "the log start says entry " + (first - 1) + " has term " + prevTerm
                    + " but the log says " + t);
        }
        logStart = first;
        logStartTerm = prevTerm;
    }

    private void applyEntries(Segment seg, Pending p, Entry[] run) {
        long s = run[0].index();
        if (s < seg.firstIndex() || s < logStart || s > lastIndex + 1) {
            throw corrupt(seg.path, p.pos(), "entries from index " + s + " do not fit: the segment starts at "
                    + seg.firstIndex() + ", the log holds " + logStart + ".." + lastIndex);
        }
        long prev = termAt(s - 1);
        for (Entry e : run) {
            if (e.term() < prev) {
                throw corrupt(seg.path, p.pos(), "entry " + e.index() + " has term " + e.term() + ", lower than "
                        + prev + " before it");
            }
            prev = e.term();
        }
        truncateAfter(s - 1);
        seg.addRecord(p.pos(), p.len(), run);
        lastIndex = s + run.length - 1;
    }

    private void truncateAfter(long keepLast) {
        if (keepLast >= lastIndex) {
            return;
        }
        for (int i = segments.size() - 1; i >= 0; i--) {
            segments.get(i).truncateAfter(keepLast);
        }
        lastIndex = keepLast;
    }

    private long termAt(long index) {
        if (index == logStart - 1) {
            return logStartTerm;
        }
        for (int i = segments.size() - 1; i >= 0; i--) {
            if (segments.get(i).holds(index)) {
                return segments.get(i).term(index);
            }
        }
        throw new IllegalStateException("no term for index " + index);
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** The offset a header problem message names ("at offset N"), else 0. */
    private static long offsetIn(String message) {
        int at = message == null ? -1 : message.indexOf("at offset ");
        if (at < 0) {
            return 0;
        }
        int i = at + "at offset ".length();
        int j = i;
        while (j < message.length() && Character.isDigit(message.charAt(j))) {
            j++;
        }
        return j > i ? Long.parseLong(message.substring(i, j)) : 0;
    }

    static Damage corrupt(Path file, long offset, String why) {
        return new Damage(file, offset, why);
    }

    /** A segment that cannot be read from {@code offset} on: the message names the file, the offset and why. */
    static final class Damage extends StorageException {
        final transient Path file;
        final long offset;
        final String why;

        Damage(Path file, long offset, String why) {
            super("raft log segment " + file + " is unreadable at byte offset " + offset + ": " + why
                    + "; the files were left as they are");
            this.file = file;
            this.offset = offset;
            this.why = why;
        }
    }

    void closeAll() {
        for (Segment s : segments) {
            s.close();
        }
    }
}
