package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.snapshot.SnapshotTestSupport.Model;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.statemachine.KvStateMachine.InstallStep;
import io.raftkv.storage.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.raftkv.snapshot.SnapshotTestSupport.b;
import static io.raftkv.snapshot.SnapshotTestSupport.cmd;
import static io.raftkv.snapshot.SnapshotTestSupport.copyTree;
import static io.raftkv.snapshot.SnapshotTestSupport.dump;
import static io.raftkv.snapshot.SnapshotTestSupport.randomBatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotInstallTest {

    @TempDir
    Path dir;

    /** A state (model) and a snapshot of it, made in a separate data directory. */
    record Source(Model model, SnapshotInfo info) {
    }

    Source snapshotOf(String name, long seed, int ops) {
        Path data = dir.resolve(name);
        Model model = new Model();
        SnapshotStore store = SnapshotStore.open(data);
        try (KvStateMachine sm = KvStateMachine.open(data)) {
            sm.apply(randomBatch(new Random(seed), model, ops, 500));
            return new Source(model, KvSnapshotter.start(sm, store, new SnapshotMeta(sm.lastApplied(), 2), b("c"))
                    .await());
        }
    }

    /** The old state of a node: flushed, so that it is also what its files hold. */
    Model oldState(Path data, long seed, int ops) {
        Model model = new Model();
        try (KvStateMachine sm = KvStateMachine.open(data)) {
            sm.apply(randomBatch(new Random(seed), model, ops, 500));
            sm.flush();
        }
        return model;
    }

    static void assertState(Model expected, KvStateMachine sm) {
        assertEquals(expected.index, sm.lastApplied());
        assertEquals(expected.map.size(), sm.size());
        assertEquals(expected.entries(), dump(sm));
    }

    @Test
    void installReplacesContentAndLastApplied() throws IOException {
        Source snap = snapshotOf("leader", 7, 3000);
        Path node = dir.resolve("node");
        oldState(node, 8, 500);
        try (KvStateMachine sm = KvStateMachine.open(node); SnapshotFileReader r = SnapshotFileReader.open(
                snap.info().file())) {
            sm.apply(List.of(cmd(501, KvCommand.put("unflushed", b("x"))))); // older than the snapshot: dropped
            sm.install(r);
            assertState(snap.model(), sm);
            // applying goes on from the snapshot index
            sm.apply(List.of(cmd(3001, KvCommand.put("after", b("y")))));
            assertEquals(3001, sm.lastApplied());
            snap.model().map.put("after", new KvEntry("after", b("y"), 3001, 3001));
            snap.model().index = 3001;
        }
        try (KvStateMachine sm = KvStateMachine.open(node)) {
            assertState(snap.model(), sm);
        }
        try (var files = Files.list(node)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("kv-install")));
        }
    }

    /**
     * A crash after each step of the install (the directory as a kill -9 would leave it, copied at that instant)
     * reopens to exactly the old state or exactly the new one, never a mix; a leftover temporary file is removed.
     */
    @Test
    void crashAtEveryStepLeavesTheOldOrTheNewState() throws IOException {
        Source snap = snapshotOf("leader", 11, 2000);
        Path node = dir.resolve("node");
        Model old = oldState(node, 12, 800);
        Map<InstallStep, Path> images = new EnumMap<>(InstallStep.class);
        try (KvStateMachine sm = KvStateMachine.open(node); SnapshotFileReader r = SnapshotFileReader.open(
                snap.info().file())) {
            sm.install(r, step -> {
                Path image = dir.resolve("crash-" + step);
                try {
                    copyTree(node, image);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                images.put(step, image);
            });
        }
        assertEquals(List.of(InstallStep.values()), new ArrayList<>(images.keySet()));
        for (Map.Entry<InstallStep, Path> e : images.entrySet()) {
            boolean renamed = e.getKey().compareTo(InstallStep.RENAMED) >= 0;
            try (KvStateMachine sm = KvStateMachine.open(e.getValue())) {
                assertState(renamed ? snap.model() : old, sm);
            } catch (AssertionError | RuntimeException ex) {
                throw new AssertionError("crash after " + e.getKey() + ": " + ex, ex);
            }
            try (var files = Files.list(e.getValue())) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith("kv-install")), e.getKey()
                        + " left the temporary file");
            }
        }
        // the restart rule then brings an old image up to the snapshot
        Path image = images.get(InstallStep.OLD_CLOSED);
        give(image, snap.info());
        SnapshotRestore.Result result = SnapshotRestore.restore(image, 1);
        assertEquals(snap.info().meta(), result.installed().orElseThrow());
        try (KvStateMachine sm = KvStateMachine.open(image)) {
            assertState(snap.model(), sm);
        }
    }

    /** A failure (here: an injected exception) at each step: the live object gives up, the directory reopens fine. */
    @Test
    void failureAtEveryStepLeavesTheOldOrTheNewState() {
        Source snap = snapshotOf("leader", 21, 1000);
        for (InstallStep failAt : InstallStep.values()) {
            Path node = dir.resolve("node-" + failAt);
            Model old = oldState(node, 22, 300);
            KvStateMachine sm = KvStateMachine.open(node);
            try (SnapshotFileReader r = SnapshotFileReader.open(snap.info().file())) {
                RuntimeException e = assertThrows(RuntimeException.class, () -> sm.install(r, step -> {
                    if (step == failAt) {
                        throw new IllegalStateException("injected at " + step);
                    }
                }));
                assertTrue(e.getMessage().contains("injected"), e.getMessage());
                if (failAt == InstallStep.NEW_FILE_WRITTEN) {
                    assertState(old, sm); // nothing touched: still usable
                } else if (failAt != InstallStep.REOPENED) {
                    assertThrows(StorageException.class, () -> sm.get("k001"));
                }
            } finally {
                sm.close();
            }
            try (KvStateMachine again = KvStateMachine.open(node)) {
                assertState(failAt.compareTo(InstallStep.RENAMED) >= 0 ? snap.model() : old, again);
            }
        }
    }

    @Test
    void corruptSnapshotIsNotInstalledAndTheStoreStaysUsable() throws IOException {
        Source snap = snapshotOf("leader", 31, 1000);
        Path node = dir.resolve("node");
        Model old = oldState(node, 32, 100);
        byte[] bytes = Files.readAllBytes(snap.info().file());
        bytes[bytes.length - 30] ^= 1; // in the last record's value: only the checksum notices
        Path bad = dir.resolve("bad.snap");
        Files.write(bad, bytes);
        try (KvStateMachine sm = KvStateMachine.open(node); SnapshotFileReader r = SnapshotFileReader.open(bad)) {
            assertThrows(SnapshotCorruptException.class, () -> sm.install(r));
            assertState(old, sm);
            sm.apply(List.of(cmd(101, KvCommand.put("still", b("works")))));
            assertFalse(Files.exists(node.resolve("kv-install.db")));
        }
    }

    @Test
    void installEndsASnapshotReadInProgress() {
        Source snap = snapshotOf("leader", 41, 200);
        Path node = dir.resolve("node");
        oldState(node, 42, 100);
        try (KvStateMachine sm = KvStateMachine.open(node); SnapshotFileReader r = SnapshotFileReader.open(
                snap.info().file())) {
            var pit = sm.beginPointInTime();
            assertFalse(pit.nextBatch(3).isEmpty());
            sm.install(r);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pit.nextBatch(3));
            assertTrue(e.getMessage().contains("replaced"), e.getMessage());
            pit.close();
            assertState(snap.model(), sm);
        }
    }

    // ------------------------------------------------------------------------------------------ restart rule

    /** Puts snapshot files into a node's snapshot directory. */
    static void give(Path node, SnapshotInfo... infos) throws IOException {
        Path d = SnapshotStore.open(node).directory();
        for (SnapshotInfo i : infos) {
            Files.copy(i.file(), d.resolve(i.file().getFileName()));
        }
    }

    static void corrupt(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 4;
        Files.write(file, bytes);
    }

    @Test
    void restartInstallsANewerSnapshotOrKeepsANewerStore() throws IOException {
        Source snap = snapshotOf("leader", 51, 600);
        Path missing = dir.resolve("missing");
        give(missing, snap.info());
        SnapshotRestore.Result r = SnapshotRestore.restore(missing, 601);
        assertEquals(snap.info().meta(), r.installed().orElseThrow());
        try (KvStateMachine sm = KvStateMachine.open(missing)) {
            assertState(snap.model(), sm);
        }
        Path ahead = dir.resolve("ahead");
        Model aheadModel = oldState(ahead, 52, 700);
        give(ahead, snap.info());
        r = SnapshotRestore.restore(ahead, 1);
        assertTrue(r.installed().isEmpty());
        assertEquals(700, r.lastApplied());
        try (KvStateMachine sm = KvStateMachine.open(ahead)) {
            assertState(aheadModel, sm);
        }
    }

    @Test
    void corruptNewestFallsBackOnlyWhenThePreviousIsSufficient() throws IOException {
        Source older = snapshotOf("older", 61, 400);
        Source newer = snapshotOf("newer", 61, 900); // same seed: the same history, further along
        // previous snapshot still sufficient (log starts at 401): installed, the damaged one set aside
        Path a = dir.resolve("a");
        give(a, older.info(), newer.info());
        corrupt(a.resolve("snapshots").resolve(newer.info().file().getFileName()));
        SnapshotRestore.Result r = SnapshotRestore.restore(a, 401);
        assertEquals(older.info().meta(), r.installed().orElseThrow());
        assertEquals(1, r.setAside().size());
        assertEquals(older.info().meta(), SnapshotStore.open(a).latest().orElseThrow().meta());
        try (KvStateMachine sm = KvStateMachine.open(a)) {
            assertState(older.model(), sm);
        }
        // log compacted past the previous snapshot: refused, nothing changed
        Path b = dir.resolve("b");
        give(b, older.info(), newer.info());
        Path damaged = b.resolve("snapshots").resolve(newer.info().file().getFileName());
        corrupt(damaged);
        StorageException e = assertThrows(StorageException.class, () -> SnapshotRestore.restore(b, 901));
        assertTrue(e.getMessage().contains(damaged.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("Raft log starts at index 901"), e.getMessage());
        assertTrue(Files.exists(damaged));
        try (KvStateMachine sm = KvStateMachine.open(b)) {
            assertEquals(0, sm.lastApplied());
        }
        // kv.db itself sufficient: started as it is, the damaged snapshot set aside
        Path c = dir.resolve("c");
        Model cModel = oldState(c, 61, 500);
        give(c, newer.info());
        corrupt(c.resolve("snapshots").resolve(newer.info().file().getFileName()));
        r = SnapshotRestore.restore(c, 450);
        assertTrue(r.installed().isEmpty());
        assertEquals(500, r.lastApplied());
        assertTrue(SnapshotStore.open(c).latest().isEmpty());
        try (KvStateMachine sm = KvStateMachine.open(c)) {
            assertState(cModel, sm);
        }
    }

    /** Garbles kv.db's header, as a write that failed half way or a damaged page can. */
    static void garbleKvDb(Path node) throws IOException {
        Path kv = node.resolve(KvStateMachine.FILE_NAME);
        byte[] bytes = Files.readAllBytes(kv);
        for (int i = 0; i < 64; i++) {
            bytes[i] ^= (byte) 0x5a;
        }
        Files.write(kv, bytes);
    }

    @Test
    void anUnreadableKvStoreIsRebuiltFromTheSnapshotAndLogWhenTheyReachBackFarEnough() throws IOException {
        Source snap = snapshotOf("snap", 71, 400);
        List<String> told = new ArrayList<>();
        // snapshot at 400, log from 401: kv.db (at 900) is deleted and rebuilt from the snapshot
        Path a = dir.resolve("a");
        oldState(a, 71, 900);
        give(a, snap.info());
        garbleKvDb(a);
        Path copy = dir.resolve("a-copy");
        copyTree(a, copy); // (a failed MapDB open keeps its file locked in this process: try it on a copy)
        assertThrows(io.raftkv.storage.CorruptStoreException.class, () -> KvStateMachine.open(copy).close());
        try (KvStateMachine sm = SnapshotRestore.openStateMachine(a, SnapshotStore.open(a), 401, told::add)) {
            assertEquals(0, sm.lastApplied());
            SnapshotRestore.Result r = SnapshotRestore.restore(sm, SnapshotStore.open(a), 401);
            assertEquals(snap.info().meta(), r.installed().orElseThrow());
            assertState(snap.model(), sm);
        }
        assertEquals(1, told.size());
        assertTrue(told.get(0).contains("rebuilding it from snapshot 400"), told.get(0));
        // log never compacted, no snapshot: rebuilt empty (the log replays everything)
        Path b = dir.resolve("b");
        oldState(b, 72, 300);
        garbleKvDb(b);
        try (KvStateMachine sm = SnapshotRestore.openStateMachine(b, SnapshotStore.open(b), 1, told::add)) {
            assertEquals(0, sm.lastApplied());
            assertEquals(0, sm.size());
        }
        // log compacted past the snapshot: nothing can rebuild it, so it is refused and left as it is
        Path c = dir.resolve("c");
        oldState(c, 73, 900);
        give(c, snap.info());
        garbleKvDb(c);
        byte[] before = Files.readAllBytes(c.resolve(KvStateMachine.FILE_NAME));
        StorageException e = assertThrows(StorageException.class,
                () -> SnapshotRestore.openStateMachine(c, SnapshotStore.open(c), 601, told::add));
        assertTrue(e.getMessage().contains("cannot be rebuilt"), e.getMessage());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(c.resolve(KvStateMachine.FILE_NAME))));
        assertEquals(2, told.size());
    }
}
