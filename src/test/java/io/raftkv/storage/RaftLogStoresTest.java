package io.raftkv.storage;

import io.raftkv.raft.HardState;
import io.raftkv.storage.wal.SegmentedLogStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static io.raftkv.storage.LogStorageContractTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RaftLogStoresTest {

    @TempDir
    Path dir;

    @Test
    void opensTheConfiguredKind() {
        try (RaftLogStore s = RaftLogStores.open(RaftLogStores.Kind.parse("segmented"), dir.resolve("a"), 4096)) {
            assertInstanceOf(SegmentedLogStorage.class, s);
        }
        try (RaftLogStore s = RaftLogStores.open(RaftLogStores.Kind.parse("MapDB"), dir.resolve("b"), 4096)) {
            assertInstanceOf(MapDbLogStorage.class, s);
        }
        assertThrows(IllegalArgumentException.class, () -> RaftLogStores.Kind.parse("rocksdb"));
    }

    @Test
    void aMapDbLogIsNotReplacedByAnEmptySegmentedOne() {
        try (RaftLogStore s = RaftLogStores.open(RaftLogStores.Kind.MAPDB, dir, 4096)) {
            s.save(new HardState(3, "n2", 0), run(1, 2, 3));
        }
        StorageException e = assertThrows(StorageException.class,
                () -> RaftLogStores.open(RaftLogStores.Kind.SEGMENTED, dir, 4096));
        assertTrue(e.getMessage().contains(MapDbLogStorage.FILE_NAME), e.getMessage());
        assertFalse(Files.exists(dir.resolve(SegmentedLogStorage.DIR_NAME)));
        try (RaftLogStore s = RaftLogStores.open(RaftLogStores.Kind.MAPDB, dir, 4096)) {
            assertEquals(2, s.lastIndex());
        }
    }

    @Test
    void aSegmentedLogIsNotReplacedByAnEmptyMapDbOne() {
        try (RaftLogStore s = RaftLogStores.open(RaftLogStores.Kind.SEGMENTED, dir, 4096)) {
            s.save(new HardState(3, "n2", 0), run(1, 2, 3));
        }
        StorageException e = assertThrows(StorageException.class,
                () -> RaftLogStores.open(RaftLogStores.Kind.MAPDB, dir, 4096));
        assertTrue(e.getMessage().contains("segmented"), e.getMessage());
        assertFalse(Files.exists(dir.resolve(MapDbLogStorage.FILE_NAME)));
        try (RaftLogStore s = RaftLogStores.open(RaftLogStores.Kind.SEGMENTED, dir, 4096)) {
            assertEquals(new HardState(3, "n2", 0), s.hardState());
        }
    }
}
