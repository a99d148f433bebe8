package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.FileSync;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The snapshot files of a node, in {@code <dataDir>/snapshots/}: {@code snap-<index>-<term>.snap} files
 * ({@link SnapshotFormat}), each complete and synced before it got its name (it is written or received under a
 * temporary {@code .tmp} name, then renamed, then the directory is synced). The newest two are kept: publishing a new
 * one deletes older ones, so that a corrupt newest file can still fall back to the previous one
 * ({@link SnapshotRestore}). Files whose name ends in {@code .corrupt} were set aside by {@link #quarantine} and are
 * kept for the operator.
 * <p>
 * Threads: all methods may be called from any thread. Deleting a file that is being streamed out
 * ({@link #openForSending}) does not disturb the stream: the open channel keeps the data readable (POSIX semantics).
 */
public final class SnapshotStore {

    public static final String DIR = "snapshots";
    /** How many snapshots {@link #publish} keeps. */
    public static final int KEEP = 2;

    private static final AtomicLong TEMP_COUNTER = new AtomicLong();
    private static final Comparator<SnapshotInfo> NEWEST_FIRST = Comparator
            .comparingLong(SnapshotInfo::index).thenComparingLong(SnapshotInfo::term).reversed();

    private final Path dir;
    // Guards receiving. Not this: a receiver's finish holds the receiver and then takes this (publish), while
    // beginReceive holds this lock and then takes the receiver (abort).
    private final Object receiveLock = new Object();
    private SnapshotReceiver receiving;

    private SnapshotStore(Path dir) {
        this.dir = dir;
    }

    /** Opens (creating it if needed) {@code dataDir/snapshots}, deleting temporary files left by a crash. */
    public static SnapshotStore open(Path dataDir) {
        MapDbFiles.prepareDataDir(dataDir);
        Path dir = dataDir.resolve(DIR).toAbsolutePath();
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    if (p.getFileName().toString().endsWith(SnapshotFormat.TEMP_SUFFIX)) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot open snapshot directory " + dir + ": " + e, e);
        }
        FileSync.syncDirectory(dir);
        return new SnapshotStore(dir);
    }

    public Path directory() {
        return dir;
    }

    /** Every snapshot file, newest (highest index) first. Names are trusted; contents are checked when read. */
    public synchronized List<SnapshotInfo> list() {
        List<SnapshotInfo> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Optional<SnapshotMeta> meta = SnapshotFormat.parseFileName(p.getFileName().toString());
                if (meta.isPresent() && Files.isRegularFile(p)) {
                    try {
                        out.add(new SnapshotInfo(meta.get(), Files.size(p), p));
                    } catch (IOException e) {
                        // deleted meanwhile
                    }
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot list snapshot directory " + dir + ": " + e, e);
        }
        out.sort(NEWEST_FIRST);
        return out;
    }

    /** The newest snapshot, if any. */
    public Optional<SnapshotInfo> latest() {
        List<SnapshotInfo> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(0));
    }

    /** Reads {@code info}'s header (index, term, configuration, key count) without reading the records. */
    public SnapshotHeader readHeader(SnapshotInfo info) {
        try (SnapshotFileReader r = SnapshotFileReader.open(info.file())) {
            checkHeader(r.header(), info.meta(), info.file());
            return r.header();
        }
    }

    /** Streams {@code info}'s records (see {@link SnapshotFileReader}); the caller closes it. */
    public SnapshotFileReader openReader(SnapshotInfo info) {
        SnapshotFileReader r = SnapshotFileReader.open(info.file());
        try {
            checkHeader(r.header(), info.meta(), info.file());
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    /** Reads all of {@code info} and checks it ({@link SnapshotCorruptException} if damaged). */
    public SnapshotHeader verify(SnapshotInfo info) {
        try (SnapshotFileReader r = openReader(info)) {
            while (r.next() != null) {
                // reading is checking
            }
            return r.header();
        }
    }

    /** Opens {@code info} for streaming it to a follower in chunks; the caller closes it. */
    public OutgoingSnapshot openForSending(SnapshotInfo info) {
        return OutgoingSnapshot.open(info);
    }

    /**
     * Starts writing a new snapshot at {@code meta} holding {@code keyCount} keys, with the cluster configuration as
     * of that point (opaque bytes, may be empty).
     */
    public SnapshotFileWriter create(SnapshotMeta meta, byte[] configuration, long keyCount) {
        return create(meta, configuration, new byte[0], keyCount);
    }

    /** {@link #create(SnapshotMeta, byte[], long)} with the client sessions as of that point. */
    public SnapshotFileWriter create(SnapshotMeta meta, byte[] configuration, byte[] sessions, long keyCount) {
        return new SnapshotFileWriter(this, newTempFile(meta), meta, configuration, sessions, keyCount);
    }

    /**
     * Starts (or resumes) receiving the snapshot at {@code meta} of {@code totalBytes} bytes from a leader. If a
     * transfer of the same snapshot and size is in progress, it is returned, so that the transfer resumes at its
     * {@link SnapshotReceiver#receivedBytes()}; a transfer of another snapshot in progress is aborted.
     */
    public SnapshotReceiver beginReceive(SnapshotMeta meta, long totalBytes) {
        Objects.requireNonNull(meta, "meta");
        if (meta.isNone()) {
            throw new IllegalArgumentException("cannot receive a snapshot of nothing: " + meta);
        }
        if (totalBytes < SnapshotFormat.HEADER_FIXED + 1 + SnapshotFormat.TRAILER) {
            throw new IllegalArgumentException("a snapshot file cannot be " + totalBytes + " bytes long");
        }
        synchronized (receiveLock) {
            if (receiving != null && receiving.isActive()) {
                if (receiving.meta().equals(meta) && receiving.totalBytes() == totalBytes) {
                    return receiving;
                }
                receiving.abort();
            }
            receiving = new SnapshotReceiver(this, newTempFile(meta), meta, totalBytes);
            return receiving;
        }
    }

    /** The transfer in progress, if any. */
    public Optional<SnapshotReceiver> receiving() {
        synchronized (receiveLock) {
            return receiving != null && receiving.isActive() ? Optional.of(receiving) : Optional.empty();
        }
    }

    /**
     * Sets a damaged snapshot aside: renames it to {@code <name>.corrupt} (kept for the operator, no longer listed).
     */
    public synchronized Path quarantine(SnapshotInfo info) {
        Path target = info.file().resolveSibling(info.file().getFileName() + ".corrupt");
        try {
            Files.move(info.file(), target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new StorageException("cannot set aside corrupt snapshot " + info.file() + ": " + e, e);
        }
        FileSync.syncDirectory(dir);
        return target;
    }

    /**
     * Makes a complete, synced temporary file the snapshot at {@code meta}: renames it (replacing a file of the same
     * name), syncs the directory, then deletes snapshots beyond the newest {@link #KEEP} (never the one just
     * published).
     */
    synchronized SnapshotInfo publish(Path tmp, SnapshotMeta meta) {
        Path target = dir.resolve(SnapshotFormat.fileName(meta));
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new StorageException("cannot rename " + tmp + " to " + target + ": " + e, e);
        }
        FileSync.syncDirectory(dir);
        SnapshotInfo info = new SnapshotInfo(meta, SnapshotFileReader.sizeOf(target), target);
        List<SnapshotInfo> all = list();
        for (int i = KEEP; i < all.size(); i++) {
            SnapshotInfo old = all.get(i);
            if (!old.file().equals(target)) {
                try {
                    Files.deleteIfExists(old.file());
                } catch (IOException e) {
                    throw new StorageException("cannot delete old snapshot " + old.file() + ": " + e, e);
                }
            }
        }
        FileSync.syncDirectory(dir);
        return info;
    }

    static void checkHeader(SnapshotHeader header, SnapshotMeta expected, Path file) {
        if (!header.meta().equals(expected)) {
            throw new SnapshotCorruptException(file, 5, "the header says " + header.meta() + ", expected "
                    + expected);
        }
    }

    private Path newTempFile(SnapshotMeta meta) {
        String base = SnapshotFormat.fileName(meta);
        return dir.resolve(base + "." + ProcessHandle.current().pid() + "-" + TEMP_COUNTER.incrementAndGet()
                + SnapshotFormat.TEMP_SUFFIX);
    }

    @Override
    public String toString() {
        return "SnapshotStore{" + dir + "}";
    }
}
