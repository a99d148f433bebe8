package io.raftkv.storage;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.LongSupplier;

/**
 * Free space on the file system of a node's data directory, and the rule that keeps a node from filling it: below
 * {@code minFreeBytes} it writes no more log entries or snapshots (see {@link DiskFullException}); it resumes once
 * twice that much (1 MiB at least) is free again: the gap keeps it from flapping at the edge.
 * <p>
 * Why stop early rather than at the operating system's "no space left on device": a write that fails half way is the
 * one thing a store's crash recovery is least tested on (MapDB, for one, can be left unable to reopen its file). Stopping
 * while there is still room means every file is complete when the node stops; the failures that still happen (another
 * process filling the disk faster than this check sees) are handled by {@link #isOutOfSpace}.
 * <p>
 * A reading is cached for {@link #CACHE_NANOS}: the check sits on the write path (one {@code statvfs} per batch at
 * most every few milliseconds).
 */
public final class DiskSpace {

    static final long CACHE_NANOS = 5_000_000L;

    private final Path dir;
    private final long minFreeBytes;
    private volatile LongSupplier probe;
    private volatile long lastReading = Long.MAX_VALUE;
    private volatile long lastReadNanos;
    private volatile boolean readOnce;

    public DiskSpace(Path dir, long minFreeBytes) {
        if (minFreeBytes < 0) {
            throw new IllegalArgumentException("minimum free disk bytes must not be negative: " + minFreeBytes);
        }
        this.dir = dir;
        this.minFreeBytes = minFreeBytes;
        this.probe = fileStoreProbe(dir);
    }

    /**
     * Replaces how free space is measured (fault injection in tests: a full disk on demand). {@code null} restores the
     * file system's own figure.
     */
    public void probe(LongSupplier replacement) {
        this.probe = replacement == null ? fileStoreProbe(dir) : replacement;
        this.readOnce = false;
    }

    public long minFreeBytes() {
        return minFreeBytes;
    }

    /** Free bytes a node waits for before it resumes after stopping for a full disk: twice the minimum, 1 MiB at least. */
    public long resumeFreeBytes() {
        return Math.max(minFreeBytes * 2, 1 << 20);
    }

    /** Bytes available to this process now (-1 if the file system cannot tell). */
    public long usableBytes() {
        long v = probe.getAsLong();
        lastReading = v;
        lastReadNanos = System.nanoTime();
        readOnce = true;
        return v;
    }

    /** Whether fewer than {@link #minFreeBytes} are free (a recent reading may be reused). */
    public boolean belowMinimum() {
        return !hasRoomFor(0);
    }

    /** Whether {@code bytes} can be written and {@link #minFreeBytes} still be left free. */
    public boolean hasRoomFor(long bytes) {
        long free = readOnce && System.nanoTime() - lastReadNanos < CACHE_NANOS ? lastReading : usableBytes();
        return free < 0 || free - bytes >= minFreeBytes;
    }

    /** Whether enough is free again to resume after stopping for a full disk. */
    public boolean canResume() {
        long free = usableBytes();
        return free < 0 || free >= resumeFreeBytes();
    }

    /** Whether {@code t} or one of its causes is the operating system's "no space left on device" (or a quota). */
    public static boolean isOutOfSpace(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof DiskFullException) {
                return true;
            }
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    private static LongSupplier fileStoreProbe(Path dir) {
        FileStore[] store = new FileStore[1];
        return () -> {
            try {
                if (store[0] == null) {
                    Path at = dir.toAbsolutePath();
                    while (at != null && !Files.exists(at)) {
                        at = at.getParent();
                    }
                    if (at == null) {
                        return -1;
                    }
                    store[0] = Files.getFileStore(at);
                }
                return store[0].getUsableSpace();
            } catch (IOException | RuntimeException e) {
                store[0] = null;
                return -1;
            }
        };
    }
}
