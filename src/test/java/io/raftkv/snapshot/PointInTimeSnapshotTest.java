package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.snapshot.SnapshotTestSupport.Model;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvPointInTime;
import io.raftkv.statemachine.KvStateMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static io.raftkv.snapshot.SnapshotTestSupport.b;
import static io.raftkv.snapshot.SnapshotTestSupport.cmd;
import static io.raftkv.snapshot.SnapshotTestSupport.dump;
import static io.raftkv.snapshot.SnapshotTestSupport.randomBatch;
import static io.raftkv.snapshot.SnapshotTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class PointInTimeSnapshotTest {

    @TempDir
    Path dir;

    /**
     * Batches of the point-in-time read and batches of applies interleaved at random (deterministically per seed):
     * the keys read are exactly the state at the start index, whatever changed before or after the read position.
     */
    @Test
    void interleavedReadsSeeExactlyTheStateAtTheStartIndex() {
        long base = SnapshotTestSupport.seedBase();
        for (long seed = base; seed < base + 60; seed++) {
            try {
                interleaved(seed, dir.resolve("s" + seed));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " (replay with -Dsnapshot.seed=" + seed + "): " + e, e);
            }
        }
    }

    private static void interleaved(long seed, Path data) {
        Random rnd = new Random(seed);
        int keys = 20 + rnd.nextInt(400);
        Model model = new Model();
        try (KvStateMachine sm = KvStateMachine.open(data)) {
            sm.apply(randomBatch(rnd, model, 50 + rnd.nextInt(1500), keys));
            Model atStart = model.copy();
            List<KvEntry> got = new ArrayList<>();
            int maxPreImages = 0;
            try (KvPointInTime pit = sm.beginPointInTime()) {
                assertEquals(atStart.index, pit.index());
                assertEquals(atStart.map.size(), pit.count());
                while (true) {
                    if (rnd.nextInt(3) > 0) {
                        sm.apply(randomBatch(rnd, model, 1 + rnd.nextInt(30), keys));
                        maxPreImages = Math.max(maxPreImages, pit.preImageCount());
                        continue;
                    }
                    List<KvEntry> batch = pit.nextBatch(1 + rnd.nextInt(25));
                    if (batch.isEmpty()) {
                        break;
                    }
                    got.addAll(batch);
                }
                assertEquals(List.of(), pit.nextBatch(10));
            }
            assertEquals(atStart.entries(), got);
            // the live state was not disturbed
            assertEquals(model.entries(), dump(sm));
            assertEquals(model.map.size(), sm.size());
            assertTrue(maxPreImages <= keys + (model.index - atStart.index), "pre-images " + maxPreImages);
            // after close, applies no longer keep pre-images
            sm.apply(randomBatch(rnd, model, 10, keys));
        }
    }

    /**
     * A real background snapshot while the applying thread keeps applying: each batch of the writer waits until the
     * applier has applied more, so applies and reads truly overlap.
     */
    @Test
    void backgroundSnapshotWhileApplying() throws Exception {
        long base = SnapshotTestSupport.seedBase();
        for (long seed = base; seed < base + 6; seed++) {
            try {
                background(seed, dir.resolve("b" + seed));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + " (replay with -Dsnapshot.seed=" + seed + "): " + e, e);
            }
        }
    }

    private static void background(long seed, Path data) throws InterruptedException {
        Random rnd = new Random(seed);
        int keys = 300 + rnd.nextInt(700);
        Model model = new Model();
        SnapshotStore store = SnapshotStore.open(data);
        try (KvStateMachine sm = KvStateMachine.open(data)) {
            sm.apply(randomBatch(rnd, model, 3000, keys));
            Model atStart = model.copy();
            Semaphore applied = new Semaphore(0);
            SnapshotTask task = KvSnapshotter.start(sm, store, new SnapshotMeta(sm.lastApplied(), 3), b("cfg"), 16,
                    n -> {
                        try {
                            if (!applied.tryAcquire(30, TimeUnit.SECONDS)) {
                                throw new IllegalStateException("the applier did not apply");
                            }
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                    });
            long appliedDuring = 0;
            while (!task.result().isDone()) {
                sm.apply(randomBatch(rnd, model, 1 + rnd.nextInt(20), keys));
                appliedDuring = model.index - atStart.index;
                applied.release();
            }
            SnapshotInfo info = task.await();
            assertTrue(appliedDuring > 0);
            assertEquals(new SnapshotMeta(atStart.index, 3), info.meta());
            assertEquals(info, store.latest().orElseThrow());
            try (SnapshotFileReader r = store.openReader(info)) {
                assertEquals(atStart.map.size(), r.header().keyCount());
                assertEquals("cfg", new String(r.header().configuration()));
            }
            assertEquals(atStart.entries(), read(info.file()));
            assertEquals(model.entries(), dump(sm));
        }
    }

    @Test
    void snapshotOfAnEmptyStoreAndOfDeletedEverything() {
        SnapshotStore store = SnapshotStore.open(dir);
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(List.of(cmd(1, KvCommand.put("a", b("1"))), cmd(2, KvCommand.delete("a"))));
            SnapshotInfo info = KvSnapshotter.start(sm, store, new SnapshotMeta(2, 1), new byte[0]).await();
            assertEquals(List.of(), read(info.file()));
            assertEquals(0, store.readHeader(info).keyCount());
        }
    }

    @Test
    void wrongIndexAndSecondSnapshotAreRefused() throws Exception {
        SnapshotStore store = SnapshotStore.open(dir);
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(List.of(cmd(1, KvCommand.put("a", b("1")))));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> KvSnapshotter.start(sm, store, new SnapshotMeta(2, 1), new byte[0]));
            assertTrue(e.getMessage().contains("last applied index is 1"), e.getMessage());
            try (KvPointInTime pit = sm.beginPointInTime()) {
                IllegalStateException again = assertThrows(IllegalStateException.class, sm::beginPointInTime);
                assertTrue(again.getMessage().contains("already"), again.getMessage());
                assertEquals(1, pit.nextBatch(5).size());
            }
            // the failed attempt released the point-in-time read: a new one works
            assertEquals(1, read(KvSnapshotter.start(sm, store, new SnapshotMeta(1, 1), new byte[0]).await().file())
                    .size());
        }
    }

    @Test
    void cancelledSnapshotLeavesNoFile() throws Exception {
        SnapshotStore store = SnapshotStore.open(dir);
        Model model = new Model();
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(randomBatch(new Random(3), model, 500, 1000));
            Semaphore go = new Semaphore(0);
            SnapshotTask task = KvSnapshotter.start(sm, store, new SnapshotMeta(500, 1), new byte[0], 4, n -> {
                try {
                    go.tryAcquire(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            task.cancel();
            go.release(1000);
            assertThrows(CancellationException.class, () -> task.result().join());
            assertEquals(List.of(), store.list());
            try (var files = java.nio.file.Files.list(store.directory())) {
                assertEquals(0, files.count());
            }
            // and pre-images are no longer kept: a new snapshot can start
            try (KvPointInTime pit = sm.beginPointInTime()) {
                assertEquals(500, pit.index());
            }
        }
    }

    @Test
    void closingTheStoreEndsAReadInProgress() {
        KvStateMachine sm = KvStateMachine.open(dir);
        sm.apply(List.of(cmd(1, KvCommand.put("a", b("1"))), cmd(2, KvCommand.put("b", b("2")))));
        KvPointInTime pit = sm.beginPointInTime();
        assertEquals(1, pit.nextBatch(1).size());
        sm.close();
        try {
            pit.nextBatch(1);
            fail("read after close");
        } catch (IllegalStateException expected) {
            assertTrue(expected.getMessage().contains("closed"), expected.getMessage());
        }
        pit.close();
    }
}
