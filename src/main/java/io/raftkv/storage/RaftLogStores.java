package io.raftkv.storage;

import io.raftkv.storage.wal.SegmentedLogStorage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Opens the configured kind of {@link RaftLogStore}. A data directory that holds the other kind's log is refused: a
 * node that started with an empty log next to its real one would have forgotten its votes and entries.
 */
public final class RaftLogStores {

    /** The log store kinds, as configured by {@code raftkv.log-store}. */
    public enum Kind {
        SEGMENTED, MAPDB;

        /** {@code segmented} or {@code mapdb} (any case). */
        public static Kind parse(String value) {
            try {
                return valueOf(value.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException | NullPointerException e) {
                throw new IllegalArgumentException("raftkv.log-store must be 'segmented' or 'mapdb', not '" + value + "'");
            }
        }
    }

    private RaftLogStores() {
    }

    public static RaftLogStore open(Kind kind, Path dataDir, long walSegmentBytes) {
        Path mapDb = dataDir.resolve(MapDbLogStorage.FILE_NAME).toAbsolutePath();
        Path wal = dataDir.resolve(SegmentedLogStorage.DIR_NAME).toAbsolutePath();
        if (kind == Kind.SEGMENTED) {
            if (Files.exists(mapDb)) {
                throw new StorageException("data directory " + dataDir.toAbsolutePath() + " holds a MapDB raft log ("
                        + mapDb + ") but raftkv.log-store is 'segmented': set raftkv.log-store=mapdb to keep using it;"
                        + " the node will not start with an empty log next to it");
            }
            return SegmentedLogStorage.open(dataDir, walSegmentBytes);
        }
        if (hasSegments(wal)) {
            throw new StorageException("data directory " + dataDir.toAbsolutePath() + " holds a segmented raft log ("
                    + wal + ") but raftkv.log-store is 'mapdb': set raftkv.log-store=segmented to keep using it;"
                    + " the node will not start with an empty log next to it");
        }
        return MapDbLogStorage.open(dataDir);
    }

    private static boolean hasSegments(Path wal) {
        if (!Files.isDirectory(wal)) {
            return Files.exists(wal);
        }
        try (Stream<Path> files = Files.list(wal)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".seg"));
        } catch (IOException e) {
            throw new StorageException("cannot list " + wal + ": " + e, e);
        }
    }
}
