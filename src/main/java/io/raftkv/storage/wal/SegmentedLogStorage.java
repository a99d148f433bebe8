package io.raftkv.storage.wal;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.EntryCodec;
import io.raftkv.storage.EntryRunCache;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.AppendRules;
import io.raftkv.storage.RaftLogStore;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A node's Raft log and hard state in a segmented write-ahead log, {@code <dataDir>/wal/} (format: {@link WalFormat}).
 * <p>
 * Every {@link #save} is one group of records (its entries, then the hard state if it changed) written with one
 * positional write at the end of the newest segment and made durable with one {@code force(false)} (fdatasync): a
 * group is applied on recovery only if complete, so a save is atomic. When a save does not fit, a new segment is
 * written to a temporary file (header, the log start and hard state, then the save), synced, renamed into place and
 * the directory synced: a segment file that has its name always holds a complete head. A conflict truncation to
 * before the newest segment's first index also starts a new segment (named by the truncation index) and deletes the
 * segments it supersedes.
 * <p>
 * {@link #compact} records the new log start and deletes whole segments whose live entries all lie at or below it.
 * The terms and record offsets of the live entries are indexed per segment in memory; recently written or read
 * records are cached decoded, so the leader's replication reads seldom touch the files. Reads are positional.
 * <p>
 * Recovery ({@link #open}) cuts a torn save at the tail of the newest segment (followed only by zeros) and ignores a
 * newest segment whose header never became durable; any other damage makes {@code open} throw a
 * {@link StorageException} naming the file and byte offset, and no file is changed. A failed write makes the storage
 * refuse further writes (fail-stop). Threads: writes and reads are synchronized; {@link #firstIndex()},
 * {@link #lastIndex()} and {@link #hardState()} are volatile reads that never wait.
 */
public final class SegmentedLogStorage implements RaftLogStore {

    public static final String DIR_NAME = "wal";
    public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    public static final long MIN_SEGMENT_BYTES = 1024;
    static final int MAX_ENTRIES_PER_RECORD = 256;
    static final int MAX_BYTES_PER_RECORD = 1 << 20;
    private static final String LOCK_FILE = "LOCK";

    private final Path dataDir;
    private final Path dir;
    private final long segmentBytes;
    private final FileChannel lockChannel;
    private final FileLock lock;

    // Guarded by this. Ascending first index; the last one is written to.
    private final List<Segment> segments;
    private long logStartTerm;
    private final EntryRunCache<RecKey> cache = new EntryRunCache<>();
    private boolean failed;
    private boolean closed;
    private Runnable beforeWrite;

    private volatile long firstIndex;
    private volatile long lastIndex;
    private volatile HardState hardState;

    private record RecKey(Segment segment, long pos) {
    }

    /** Opens (creating it if needed) the log of the node whose data directory is {@code dataDir}, 64 MiB segments. */
    public static SegmentedLogStorage open(Path dataDir) {
        return open(dataDir, DEFAULT_SEGMENT_BYTES);
    }

    /** As {@link #open(Path)}, with new segments preallocated to {@code segmentBytes}. */
    public static SegmentedLogStorage open(Path dataDir, long segmentBytes) {
        if (segmentBytes < MIN_SEGMENT_BYTES || segmentBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("segment size must be in [" + MIN_SEGMENT_BYTES + ", "
                    + Integer.MAX_VALUE + "] bytes, not " + segmentBytes);
        }
        MapDbFiles.prepareDataDir(dataDir);
        Path dir = dataDir.resolve(DIR_NAME).toAbsolutePath();
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new StorageException("raft log directory " + dir + " is not a directory");
        }
        FileChannel lockChannel = null;
        FileLock lock = null;
        try {
            Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new StorageException("cannot open raft log " + dir + ": it is locked, already open in this"
                        + " process or in another one (is another node using data directory " + dataDir.toAbsolutePath()
                        + "?)");
            }
            List<Path> files = new ArrayList<>();
            List<Path> temps = new ArrayList<>();
            try (Stream<Path> list = Files.list(dir)) {
                for (Path p : (Iterable<Path>) list::iterator) {
                    String name = p.getFileName().toString();
                    if (WalFormat.parseFileName(name) >= 0) {
                        if (!Files.isRegularFile(p)) {
                            throw new StorageException("raft log segment " + p + " is not a regular file");
                        }
                        files.add(p);
                    } else if (name.endsWith(WalFormat.TEMP_SUFFIX)) {
                        temps.add(p);
                    }
                }
            }
            files.sort((a, b) -> Long.compare(WalFormat.parseFileName(a.getFileName().toString()),
                    WalFormat.parseFileName(b.getFileName().toString())));
            WalRecovery rec = WalRecovery.scan(files);
            return new SegmentedLogStorage(dataDir, dir, segmentBytes, lockChannel, lock, rec, temps);
        } catch (IOException e) {
            release(lockChannel);
            throw new StorageException("cannot open raft log " + dir + ": " + MapDbFiles.describe(e), e);
        } catch (RuntimeException | Error e) {
            release(lockChannel);
            throw e;
        }
    }

    private static void release(FileChannel lockChannel) {
        try {
            if (lockChannel != null) {
                lockChannel.close(); // releases the lock
            }
        } catch (IOException ignored) {
            // already failing
        }
    }

    private SegmentedLogStorage(Path dataDir, Path dir, long segmentBytes, FileChannel lockChannel, FileLock lock,
                                WalRecovery rec, List<Path> temps) throws IOException {
        this.dataDir = dataDir;
        this.dir = dir;
        this.segmentBytes = segmentBytes;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.segments = rec.segments;
        try {
            // Recovery decided to open: now repair what a crash left behind.
            boolean dirChanged = false;
            for (int i = rec.toDelete.size() - 1; i >= 0; i--) {
                dirChanged |= Files.deleteIfExists(rec.toDelete.get(i));
            }
            for (Path t : temps) {
                dirChanged |= Files.deleteIfExists(t);
            }
            if (!segments.isEmpty()) {
                Segment newest = segments.get(segments.size() - 1);
                newest.channel.close();
                newest.channel = FileChannel.open(newest.path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                newest.capacity = Math.max(segmentBytes, newest.channel.size());
                if (rec.tornFrom >= 0) {
                    zero(newest.channel, rec.tornFrom, rec.tornTo);
                    newest.channel.force(false);
                }
            }
            if (dirChanged) {
                syncDir();
            }
        } catch (IOException | RuntimeException e) {
            rec.closeAll();
            throw e;
        }
        this.hardState = rec.hardState;
        if (segments.isEmpty()) {
            firstIndex = 1;
            lastIndex = 0;
            logStartTerm = 0;
            hardState = HardState.EMPTY;
            try {
                writeGroup(1, List.of(), new Head(1, 0, HardState.EMPTY));
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        } else {
            firstIndex = rec.logStart;
            lastIndex = rec.lastIndex;
            logStartTerm = rec.logStartTerm;
        }
    }

    // ---------------------------------------------------------------------------------------------------- reads

    @Override
    public HardState hardState() {
        return hardState;
    }

    @Override
    public long firstIndex() {
        return firstIndex;
    }

    @Override
    public long lastIndex() {
        return lastIndex;
    }

    @Override
    public synchronized long term(long index) {
        long base = firstIndex - 1;
        if (index < base || index > lastIndex) {
            throw new IndexOutOfBoundsException("no term for index " + index + ": the log holds " + firstIndex + ".."
                    + lastIndex);
        }
        return index == base ? logStartTerm : segmentFor(index).term(index);
    }

    @Override
    public synchronized List<Entry> entries(long lo, long hi, long maxBytes) {
        ensureOpen();
        if (lo < firstIndex || hi > lastIndex + 1 || lo > hi) {
            throw new IndexOutOfBoundsException("entries [" + lo + "," + hi + ") of " + firstIndex + ".." + lastIndex);
        }
        List<Entry> out = new ArrayList<>((int) Math.min(hi - lo, 256));
        long bytes = 0;
        long next = lo;
        while (next < hi) {
            Segment seg = segmentFor(next);
            int r = seg.recordFor(next);
            Entry[] run = record(seg, r);
            // a record's entries count only up to the next record (a truncation may have replaced its tail)
            long end = Math.min(hi, seg.recordEnd(r));
            for (int i = (int) (next - run[0].index()); i < run.length && next < end; i++) {
                Entry e = run[i];
                bytes += e.sizeInBytes();
                if (!out.isEmpty() && bytes > maxBytes) {
                    return out;
                }
                out.add(e);
                next++;
            }
        }
        return out;
    }

    /** Bytes of the segment files (their preallocated sizes). */
    @Override
    public long sizeOnDiskBytes() {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The directory of the segment files. */
    public Path directory() {
        return dir;
    }

    /** Number of segment files held (for tests and metrics). */
    public synchronized int segmentCount() {
        return segments.size();
    }

    private Segment segmentFor(long index) {
        for (int i = segments.size() - 1; i >= 0; i--) {
            Segment s = segments.get(i);
            if (s.holds(index)) {
                return s;
            }
        }
        throw new StorageException("raft log " + dir + " has no segment holding entry " + index + " although it"
                + " should hold " + firstIndex + ".." + lastIndex);
    }

    private Entry[] record(Segment seg, int r) {
        RecKey key = new RecKey(seg, seg.recordPos(r));
        Entry[] run = cache.get(key);
        if (run != null) {
            return run;
        }
        run = seg.readRecord(r);
        cache.put(key, run);
        return run;
    }

    // ---------------------------------------------------------------------------------------------------- writes

    /**
     * Persists {@code hs} (if not null and different from the stored one) and {@code entries} (replacing any entries
     * at or after the first new index), atomically and durably on return. Refuses, with an
     * {@link IllegalStateException} and nothing written, entries that leave a gap, start before the first index,
     * decrease in term, or would remove or change an entry at or below the stored commit index.
     */
    @Override
    public synchronized void save(HardState hs, List<Entry> entries) {
        ensureWritable();
        List<Entry> list = entries == null ? List.of() : entries;
        boolean hsChanged = hs != null && !hs.sameAs(hardState);
        if (list.isEmpty() && !hsChanged) {
            return;
        }
        long first = list.isEmpty() ? lastIndex + 1 : checkAppend(list);
        List<WalFormat.Rec> body = new ArrayList<>();
        List<Entry[]> runs = new ArrayList<>();
        int from = 0;
        while (from < list.size()) {
            int to = from;
            long bytes = 0;
            while (to < list.size() && to - from < MAX_ENTRIES_PER_RECORD
                    && (to == from || bytes + list.get(to).sizeInBytes() <= MAX_BYTES_PER_RECORD)) {
                bytes += list.get(to).sizeInBytes();
                to++;
            }
            body.add(new WalFormat.Rec(WalFormat.TYPE_ENTRIES, EntryCodec.encode(list, from, to)));
            runs.add(list.subList(from, to).toArray(new Entry[0]));
            from = to;
        }
        if (hsChanged) {
            body.add(new WalFormat.Rec(WalFormat.TYPE_HARD_STATE, WalFormat.encodeHardState(hs)));
        }
        Written w = writeGroup(first, body, new Head(firstIndex, logStartTerm, hsChanged ? hs : hardState));
        // Durable: publish to memory.
        if (!runs.isEmpty()) {
            if (first <= lastIndex) {
                for (int i = segments.size() - 1; i >= 0; i--) {
                    segments.get(i).truncateAfter(first - 1);
                }
            }
            for (int i = 0; i < runs.size(); i++) {
                int at = w.group.offsets()[w.headRecords + i];
                long pos = w.pos + at;
                w.segment.addRecord(pos, body.get(i).frameBytes(), runs.get(i));
                cache.put(new RecKey(w.segment, pos), runs.get(i));
            }
            lastIndex = list.get(list.size() - 1).index();
        }
        if (hsChanged) {
            hardState = hs;
        }
    }

    /** Validates an append; returns the first new index. */
    private long checkAppend(List<Entry> list) {
        return AppendRules.check(list, firstIndex, lastIndex, hardState.commit(), this::term);
    }

    /**
     * Discards the entries up to {@code throughIndex} (which a snapshot now covers): the log then starts at
     * {@code throughIndex + 1} and remembers the discarded entry's term. The new log start is durable on return;
     * segments whose live entries all lie at or below {@code throughIndex} are deleted (never the newest). The caller
     * must only compact entries the state machine has applied and made durable.
     */
    @Override
    public synchronized void compact(long throughIndex) {
        ensureWritable();
        long base = firstIndex - 1;
        if (throughIndex < base || throughIndex > lastIndex) {
            throw new IllegalArgumentException("cannot compact through " + throughIndex + ": the log holds "
                    + firstIndex + ".." + lastIndex);
        }
        if (throughIndex == base) {
            return;
        }
        long newPrevTerm = term(throughIndex);
        writeGroup(lastIndex + 1, List.of(new WalFormat.Rec(WalFormat.TYPE_LOG_START,
                WalFormat.encodeLogStart(throughIndex + 1, newPrevTerm))), new Head(throughIndex + 1, newPrevTerm, hardState));
        firstIndex = throughIndex + 1;
        logStartTerm = newPrevTerm;
        int drop = 0;
        while (drop < segments.size() - 1
                && (segments.get(drop).count() == 0 || segments.get(drop).liveLast() <= throughIndex)) {
            drop++;
        }
        if (drop == 0) {
            return;
        }
        try {
            while (drop-- > 0) { // oldest first: a crash leaves a suffix, which recovers
                Segment s = segments.remove(0);
                cache.removeIf(k -> k.segment() == s);
                s.close();
                Files.deleteIfExists(s.path);
            }
            syncDir();
        } catch (IOException | RuntimeException e) {
            throw writeFailed(dir, e);
        }
    }

    /**
     * Discards every entry; the log then starts right after snapshot point {@code s} (installing a snapshot from the
     * leader). A new segment named {@code s.index() + 1} is written whose head says the log starts there, so recovery
     * ignores every segment before it even if a crash comes before they are deleted; then they are deleted.
     */
    @Override
    public synchronized void resetTo(SnapshotMeta s) {
        ensureWritable();
        long first = s.index() + 1;
        Segment active = segments.isEmpty() ? null : segments.get(segments.size() - 1);
        newSegment(first, s.term(), List.of(), new Head(first, s.term(), hardState), active);
        try {
            while (segments.size() > 1) {
                Segment old = segments.remove(0);
                cache.removeIf(k -> k.segment() == old);
                old.close();
                Files.deleteIfExists(old.path);
            }
            syncDir();
        } catch (IOException | RuntimeException e) {
            throw writeFailed(dir, e);
        }
        cache.clear();
        firstIndex = first;
        lastIndex = s.index();
        logStartTerm = s.term();
    }

    private record Written(Segment segment, long pos, WalFormat.Group group, int headRecords) {
    }

    /** What the head of a new segment records: the log start and hard state as of the end of the save. */
    private record Head(long logStart, long logStartTerm, HardState hardState) {
        List<WalFormat.Rec> records() {
            return List.of(new WalFormat.Rec(WalFormat.TYPE_LOG_START, WalFormat.encodeLogStart(logStart, logStartTerm)),
                    new WalFormat.Rec(WalFormat.TYPE_HARD_STATE, WalFormat.encodeHardState(hardState)));
        }
    }

    private static List<WalFormat.Rec> concat(List<WalFormat.Rec> a, List<WalFormat.Rec> b) {
        List<WalFormat.Rec> out = new ArrayList<>(a.size() + b.size());
        out.addAll(a);
        out.addAll(b);
        return out;
    }

    /**
     * Writes one save's records durably: appended to the newest segment, or in a new segment starting at index
     * {@code first} (the save's first entry) if it does not fit or truncates to before the newest segment.
     */
    private Written writeGroup(long first, List<WalFormat.Rec> body, Head head) {
        Segment active = segments.isEmpty() ? null : segments.get(segments.size() - 1);
        if (active != null && first >= active.firstIndex()) {
            int headCount = active.hasHead ? 0 : 2;
            WalFormat.Group g = WalFormat.frame(headCount == 0 ? body : concat(head.records(), body));
            if (active.writePos + g.bytes().length <= active.capacity) {
                long pos = active.writePos;
                try {
                    runHook();
                    Segment.write(active.channel, pos, g.bytes());
                    active.channel.force(false);
                } catch (IOException | RuntimeException | Error e) {
                    throw writeFailed(active.path, e);
                }
                active.writePos = pos + g.bytes().length;
                active.hasHead = true;
                return new Written(active, pos, g, headCount);
            }
        }
        return newSegment(first, first == 1 ? 0 : term(first - 1), body, head, active);
    }

    private Written newSegment(long first, long prevTerm, List<WalFormat.Rec> body, Head head, Segment active) {
        WalFormat.Group g = WalFormat.frame(concat(head.records(), body));
        WalFormat.Header h = new WalFormat.Header(first, prevTerm, active == null ? 1 : active.header.sequence() + 1);
        String name = WalFormat.fileName(first);
        Path target = dir.resolve(name);
        Path temp = dir.resolve(name.substring(0, name.length() - WalFormat.SUFFIX.length()) + WalFormat.TEMP_SUFFIX);
        long used = WalFormat.HEADER_BYTES + (long) g.bytes().length;
        long capacity = Math.max(segmentBytes, used);
        FileChannel ch = null;
        try {
            runHook();
            ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ, StandardOpenOption.WRITE);
            Segment.write(ch, 0, WalFormat.encodeHeader(h));
            Segment.write(ch, WalFormat.HEADER_BYTES, g.bytes());
            if (capacity > used) {
                Segment.write(ch, capacity - 1, new byte[1]); // preallocate (sparse): later writes keep the size
            }
            ch.force(true);
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncDir();
        } catch (IOException | RuntimeException | Error e) {
            try {
                if (ch != null) {
                    ch.close();
                }
                Files.deleteIfExists(temp);
            } catch (IOException | RuntimeException ignored) {
                // already failing
            }
            throw writeFailed(target, e);
        }
        Segment seg = new Segment(target, h, ch);
        seg.capacity = capacity;
        seg.writePos = used;
        seg.hasHead = true;
        // Segments starting at or after `first` are superseded (a truncation, or the one the rename replaced).
        boolean deleted = false;
        try {
            while (!segments.isEmpty() && segments.get(segments.size() - 1).firstIndex() >= first) {
                Segment old = segments.remove(segments.size() - 1);
                cache.removeIf(k -> k.segment() == old);
                old.close();
                if (!old.path.equals(target)) {
                    Files.deleteIfExists(old.path);
                    deleted = true;
                }
            }
            if (deleted) {
                syncDir();
            }
        } catch (IOException | RuntimeException e) {
            seg.close();
            throw writeFailed(dir, e);
        }
        segments.add(seg);
        return new Written(seg, WalFormat.HEADER_BYTES, g, 2);
    }

    private void runHook() {
        Runnable hook = beforeWrite;
        if (hook != null) {
            hook.run();
        }
    }

    /** Test hook: runs at the start of every write, before any byte of it reaches a file (e.g. to copy, or throw). */
    synchronized void beforeWrite(Runnable hook) {
        this.beforeWrite = hook;
    }

    private void syncDir() throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private static void zero(FileChannel ch, long from, long to) throws IOException {
        byte[] zeros = new byte[(int) Math.min(1 << 16, Math.max(0, to - from))];
        for (long pos = from; pos < to; pos += zeros.length) {
            Segment.write(ch, pos, to - pos >= zeros.length ? zeros : new byte[(int) (to - pos)]);
        }
    }

    private StorageException writeFailed(Path file, Throwable e) {
        failed = true;
        return new StorageException("cannot write raft log " + file + ": " + MapDbFiles.describe(e)
                + "; the log refuses further writes, restart the node", e);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cache.clear();
        for (Segment s : segments) {
            s.close();
        }
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        release(lockChannel);
    }

    @Override
    public String toString() {
        return "SegmentedLogStorage{" + dir + ", " + firstIndex + ".." + lastIndex + "}";
    }

    // ---------------------------------------------------------------------------------------------------- internals

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("raft log " + dir + " is closed");
        }
    }

    private void ensureWritable() {
        ensureOpen();
        if (failed) {
            throw new StorageException("raft log " + dir + " refuses writes after an earlier write failure");
        }
    }

}
