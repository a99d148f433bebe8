package io.raftkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** {@code snapshot save --dir DIR --retain N}: only the newest N backups stay; nothing else in DIR is touched. */
class BackupRetentionTest {

    @Test
    void theOldestBackupsBeyondTheNewestNAreDeletedAndNothingElse(@TempDir Path dir) throws Exception {
        List<String> names = List.of("raftkv-20261130T060000Z-900.snap", "raftkv-20261201T000000Z-1000.snap",
                "raftkv-20261201T060000Z-1200.snap", "raftkv-20261201T120000Z-1500.snap");
        for (String n : names) {
            Files.writeString(dir.resolve(n), n);
        }
        Files.writeString(dir.resolve("my-own.snap"), "kept");
        Files.writeString(dir.resolve("raftkv-20261201T130000Z-1600.snap.part"), "a download in progress");

        List<Path> deleted = SnapshotSave.prune(dir, 2);
        assertEquals(List.of(dir.resolve(names.get(1)), dir.resolve(names.get(0))), deleted, "oldest first out");
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("my-own.snap", names.get(2), names.get(3), "raftkv-20261201T130000Z-1600.snap.part"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertTrue(SnapshotSave.prune(dir, 2).isEmpty(), "idempotent");
        assertEquals(List.of(dir.resolve(names.get(2))), SnapshotSave.prune(dir, 1), "--retain 1 keeps the newest only");
    }
}
