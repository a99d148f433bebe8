package io.raftkv.storage.wal;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A read-only look at a node's segmented log ({@code <dataDir>/wal/}) for tools: the same scan as recovery
 * ({@link WalRecovery}, the same format code) but it never creates, locks, cuts, zeroes or deletes anything. Where
 * recovery would cut a torn save or refuse to start, the scan stops there and reports the file and byte offset
 * ({@link #problem()}); everything read before that point is available. Safe on a copy of a killed node's directory
 * (and, at one's own risk of reading a save in progress, on a running node's).
 */
public final class WalScan implements AutoCloseable {

    /** Damage found: the file, the byte offset, what is wrong; {@code torn} if it is a torn save recovery would cut. */
    public record Problem(Path file, long offset, String message, boolean torn) {
    }

    /**
     * One live segment file: its name, header, size, where its valid records end ({@code usedBytes}) and which live
     * entries it holds ({@code count} 0 if none).
     */
    public record SegmentInfo(Path file, long firstIndex, long prevTerm, long sequence, long sizeBytes, long usedBytes,
                              long liveFirst, long count) {
    }

    private final Path dir;
    private final WalRecovery rec;
    private final List<Path> ignored;

    private WalScan(Path dir, WalRecovery rec, List<Path> ignored) {
        this.dir = dir;
        this.rec = rec;
        this.ignored = ignored;
    }

    /** Whether {@code dataDir} has a {@code wal/} directory (with or without segments). */
    public static boolean present(Path dataDir) {
        return Files.isDirectory(dataDir.resolve(SegmentedLogStorage.DIR_NAME));
    }

    /** Scans {@code dataDir/wal}; a {@link StorageException} if it is missing or cannot be listed or read at all. */
    public static WalScan open(Path dataDir) {
        Path dir = dataDir.resolve(SegmentedLogStorage.DIR_NAME).toAbsolutePath();
        if (!Files.isDirectory(dir)) {
            throw new StorageException("raft log directory " + dir + " does not exist or is not a directory");
        }
        List<Path> files = new ArrayList<>();
        List<Path> ignored = new ArrayList<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : (Iterable<Path>) list::iterator) {
                String name = p.getFileName().toString();
                if (WalFormat.parseFileName(name) >= 0 && Files.isRegularFile(p)) {
                    files.add(p);
                } else if (name.endsWith(WalFormat.TEMP_SUFFIX)) {
                    ignored.add(p);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot list raft log directory " + dir + ": " + e, e);
        }
        files.sort((a, b) -> Long.compare(WalFormat.parseFileName(a.getFileName().toString()),
                WalFormat.parseFileName(b.getFileName().toString())));
        WalRecovery rec = WalRecovery.scanReadOnly(files);
        ignored.addAll(rec.toDelete);
        Collections.sort(ignored);
        return new WalScan(dir, rec, ignored);
    }

    public Path directory() {
        return dir;
    }

    /** Whether the directory holds any segment at all (an empty wal/ is a log never written). */
    public boolean empty() {
        return rec.segments.isEmpty();
    }

    public HardState hardState() {
        return rec.hardState;
    }

    /** The first index the log holds (after compaction); 1 for an empty log. */
    public long firstIndex() {
        return rec.segments.isEmpty() ? 1 : rec.logStart;
    }

    /** The term of the entry just before {@link #firstIndex()} (the compacted one), 0 if none. */
    public long firstIndexPrevTerm() {
        return rec.segments.isEmpty() ? 0 : rec.logStartTerm;
    }

    public long lastIndex() {
        return rec.segments.isEmpty() ? 0 : rec.lastIndex;
    }

    /** The live segments, oldest first. */
    public List<SegmentInfo> segments() {
        List<SegmentInfo> out = new ArrayList<>();
        for (Segment s : rec.segments) {
            long size;
            try {
                size = Files.size(s.path);
            } catch (IOException e) {
                size = -1;
            }
            out.add(new SegmentInfo(s.path, s.firstIndex(), s.header.prevTerm(), s.header.sequence(), size, s.writePos,
                    s.count() == 0 ? 0 : s.liveFirst(), s.count()));
        }
        return out;
    }

    /** Files recovery would delete on opening (temporary files, superseded or never-completed segments). */
    public List<Path> ignoredFiles() {
        return List.copyOf(ignored);
    }

    /** Where the scan found damage or a torn save, if it did (the first such place; nothing after it is read). */
    public Optional<Problem> problem() {
        if (rec.damage != null) {
            return Optional.of(new Problem(rec.damage.file, rec.damage.offset, rec.damage.why, false));
        }
        if (rec.tornFile != null) {
            return Optional.of(new Problem(rec.tornFile, rec.tornFrom, "torn save at the tail of the newest segment,"
                    + " bytes " + rec.tornFrom + ".." + rec.tornTo + " (" + rec.tornWhy + " at offset " + rec.tornAt
                    + "): what it holds is not shown, and a restart would cut it", true));
        }
        return Optional.empty();
    }

    /**
     * The live entries {@code [lo, hi)}, read from the files and checked; a {@link StorageException} naming the file
     * and offset if a record cannot be read.
     */
    public List<Entry> entries(long lo, long hi) {
        if (lo < firstIndex() || hi > lastIndex() + 1 || lo > hi) {
            throw new IndexOutOfBoundsException("entries [" + lo + "," + hi + ") of " + firstIndex() + ".."
                    + lastIndex());
        }
        List<Entry> out = new ArrayList<>((int) Math.min(hi - lo, 1024));
        long next = lo;
        while (next < hi) {
            Segment seg = segmentFor(next);
            int r = seg.recordFor(next);
            Entry[] run = seg.readRecord(r);
            long end = Math.min(hi, seg.recordEnd(r));
            for (int i = (int) (next - run[0].index()); i < run.length && next < end; i++) {
                out.add(run[i]);
                next++;
            }
        }
        return out;
    }

    private Segment segmentFor(long index) {
        for (int i = rec.segments.size() - 1; i >= 0; i--) {
            if (rec.segments.get(i).holds(index)) {
                return rec.segments.get(i);
            }
        }
        throw new StorageException("raft log " + dir + " has no segment holding entry " + index);
    }

    @Override
    public void close() {
        rec.closeAll();
    }
}
