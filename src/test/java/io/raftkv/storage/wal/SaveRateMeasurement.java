package io.raftkv.storage.wal;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.storage.MapDbLogStorage;
import io.raftkv.storage.RaftLogStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

/**
 * Prints saves per second (one 256-byte entry and a new commit index per save) for both log stores. Not a test and
 * asserts nothing: run {@code java -cp ... io.raftkv.storage.wal.SaveRateMeasurement [dir] [saves]}.
 */
public final class SaveRateMeasurement {

    public static void main(String[] args) throws IOException {
        Path base = Files.createTempDirectory(Path.of(args.length > 0 ? args[0] : "target"), "save-rate");
        int saves = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        measure("segmented", base.resolve("seg"), saves, SegmentedLogStorage::open);
        measure("mapdb", base.resolve("mapdb"), saves, MapDbLogStorage::open);
    }

    private static void measure(String name, Path dir, int saves, Function<Path, RaftLogStore> open) {
        byte[] data = new byte[256];
        try (RaftLogStore s = open.apply(dir)) {
            for (int i = 1; i <= 200; i++) { // warm-up
                s.save(new HardState(1, "n1", i - 1), List.of(new Entry(1, i, EntryType.COMMAND, data)));
            }
            long t0 = System.nanoTime();
            for (int i = 201; i < 201 + saves; i++) {
                s.save(new HardState(1, "n1", i - 1), List.of(new Entry(1, i, EntryType.COMMAND, data)));
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%-9s %6d saves in %.2f s: %8.0f saves/s, %.3f ms/save, %d bytes on disk%n", name, saves,
                    secs, saves / secs, secs * 1000 / saves, s.sizeOnDiskBytes());
        }
    }
}
