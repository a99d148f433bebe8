package io.raftkv.snapshot;

import io.raftkv.raft.Entry;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.MapDbFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.raftkv.snapshot.SnapshotTestSupport.cmd;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A micro-measurement, not a test: time to write a snapshot of 1,000,000 keys with 256-byte values, its size, and
 * time to install it. Prints figures and asserts nothing about speed. Runs only with {@code -Dsnapshot.report=true}:
 * {@code ./mvnw -B -q test -Dtest=SnapshotSizeReport -Dsnapshot.report=true -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dsnapshot.report.keys=N} for another size).
 */
@EnabledIfSystemProperty(named = "snapshot.report", matches = "true")
class SnapshotSizeReport {

    @TempDir
    Path dir;

    @Test
    void report() {
        int keys = Integer.getInteger("snapshot.report.keys", 1_000_000);
        Path leader = dir.resolve("leader");
        Path follower = dir.resolve("follower");
        Random rnd = new Random(1);
        long t0 = System.nanoTime();
        SnapshotInfo info;
        try (KvStateMachine sm = KvStateMachine.open(leader)) {
            List<Entry> batch = new ArrayList<>();
            for (int i = 1; i <= keys; i++) {
                byte[] value = new byte[256];
                rnd.nextBytes(value);
                batch.add(cmd(i, KvCommand.put(String.format("user/%08d", rnd.nextInt(Integer.MAX_VALUE)) + i,
                        value)));
                if (batch.size() == 10_000) {
                    sm.apply(batch);
                    batch.clear();
                    sm.flush();
                }
            }
            sm.apply(batch);
            sm.flush();
            long loaded = System.nanoTime();
            System.out.printf("snapshot report: loaded %,d keys in %.1f s; kv.db %,d bytes%n", sm.size(),
                    (loaded - t0) / 1e9, MapDbFiles.sizeOnDisk(leader, KvStateMachine.FILE_NAME));
            long w0 = System.nanoTime();
            info = KvSnapshotter.start(sm, SnapshotStore.open(leader), new SnapshotMeta(keys, 1), new byte[0])
                    .await();
            long w1 = System.nanoTime();
            System.out.printf("snapshot report: wrote snapshot of %,d keys in %.2f s, file %,d bytes (%.1f MiB)%n",
                    sm.size(), (w1 - w0) / 1e9, info.sizeBytes(), info.sizeBytes() / 1048576.0);
            assertEquals(keys, sm.size());
        }
        long v0 = System.nanoTime();
        SnapshotStore.open(leader).verify(info);
        System.out.printf("snapshot report: verified (read + CRC32C) in %.2f s%n", (System.nanoTime() - v0) / 1e9);
        Runtime rt = Runtime.getRuntime();
        try (KvStateMachine sm = KvStateMachine.open(follower); SnapshotFileReader r = SnapshotFileReader.open(
                info.file())) {
            System.gc();
            long heapBefore = rt.totalMemory() - rt.freeMemory();
            long i0 = System.nanoTime();
            sm.install(r);
            long i1 = System.nanoTime();
            long heapAfter = rt.totalMemory() - rt.freeMemory();
            System.out.printf("snapshot report: installed in %.2f s; kv.db %,d bytes; heap %d -> %d MiB%n",
                    (i1 - i0) / 1e9, MapDbFiles.sizeOnDisk(follower, KvStateMachine.FILE_NAME),
                    heapBefore >> 20, heapAfter >> 20);
            assertEquals(keys, sm.size());
            assertEquals(keys, sm.lastApplied());
        }
    }
}
