package io.raftkv.statemachine;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.statemachine.ApplyResult.Kind;
import io.raftkv.statemachine.KvCommand.Condition;
import io.raftkv.storage.MapDbLogStorage;
import io.raftkv.storage.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvStateMachineTest {

    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Entry cmd(long index, KvCommand c) {
        return new Entry(1, index, EntryType.COMMAND, c.encode());
    }

    static Entry put(long index, String key, String value) {
        return cmd(index, KvCommand.put(key, b(value)));
    }

    static String value(KvStateMachine sm, String key) {
        return sm.get(key).map(e -> new String(e.value(), StandardCharsets.UTF_8)).orElse(null);
    }

    @Test
    void newStoreIsEmpty() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            assertEquals(0, sm.lastApplied());
            assertEquals(0, sm.size());
            assertEquals(Optional.empty(), sm.get("a"));
            assertEquals(new KvListing(List.of(), false), sm.list("", 10));
            assertTrue(Files.isRegularFile(dir.resolve(KvStateMachine.FILE_NAME)));
        }
    }

    @Test
    void putsAndDeletes() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            List<ApplyResult> r = sm.apply(List.of(
                    Entry.noop(1, 1),
                    put(2, "a", "1"),
                    put(3, "b", "2"),
                    put(4, "a", "3"),
                    cmd(5, KvCommand.delete("b")),
                    cmd(6, KvCommand.delete("missing")),
                    new Entry(2, 7, EntryType.CONFIG, new byte[] {1})));
            assertEquals(List.of(
                    ApplyResult.noop(1, 1),
                    new ApplyResult(2, 1, Kind.OK, "a", 2, false),
                    new ApplyResult(3, 1, Kind.OK, "b", 3, false),
                    new ApplyResult(4, 1, Kind.OK, "a", 4, false),
                    new ApplyResult(5, 1, Kind.OK, "b", 0, true),
                    new ApplyResult(6, 1, Kind.OK, "missing", 0, false),
                    new ApplyResult(7, 2, Kind.NOOP, null, 0, false)), r);
            assertEquals(7, sm.lastApplied());
            assertEquals(new KvEntry("a", b("3"), 4, 2), sm.get("a").orElseThrow());
            assertEquals(Optional.empty(), sm.get("b"));
            assertEquals(1, sm.size());
            // a key deleted and written again starts a new life
            sm.apply(List.of(put(8, "b", "again")));
            assertEquals(new KvEntry("b", b("again"), 8, 8), sm.get("b").orElseThrow());
            assertEquals(2, sm.size());
        }
    }

    @Test
    void conditionalWrites() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            List<ApplyResult> r = sm.apply(List.of(
                    cmd(1, KvCommand.put("k", b("v1"), Condition.absent())),          // ok: absent
                    cmd(2, KvCommand.put("k", b("v2"), Condition.absent())),          // conflict: exists (v1)
                    cmd(3, KvCommand.put("k", b("v3"), Condition.version(1))),        // ok
                    cmd(4, KvCommand.put("k", b("v4"), Condition.version(1))),        // conflict: version 3
                    cmd(5, KvCommand.put("k", b("v5"), Condition.value(b("v3")))),    // ok
                    cmd(6, KvCommand.put("k", b("v6"), Condition.value(b("v3")))),    // conflict
                    cmd(7, KvCommand.delete("k", Condition.version(3))),              // conflict
                    cmd(8, KvCommand.put("x", b("1"), Condition.version(8))),         // conflict: absent
                    cmd(9, KvCommand.put("x", b("1"), Condition.value(new byte[0]))), // conflict: absent
                    cmd(10, KvCommand.delete("x", Condition.absent())),               // ok, nothing deleted
                    cmd(11, KvCommand.delete("k", Condition.value(b("v5")))),         // ok
                    cmd(12, KvCommand.delete("k", Condition.version(5)))));           // conflict: gone
            assertEquals(List.of(
                    new ApplyResult(1, 1, Kind.OK, "k", 1, false),
                    new ApplyResult(2, 1, Kind.CONFLICT, "k", 1, false),
                    new ApplyResult(3, 1, Kind.OK, "k", 3, false),
                    new ApplyResult(4, 1, Kind.CONFLICT, "k", 3, false),
                    new ApplyResult(5, 1, Kind.OK, "k", 5, false),
                    new ApplyResult(6, 1, Kind.CONFLICT, "k", 5, false),
                    new ApplyResult(7, 1, Kind.CONFLICT, "k", 5, false),
                    new ApplyResult(8, 1, Kind.CONFLICT, "x", 0, false),
                    new ApplyResult(9, 1, Kind.CONFLICT, "x", 0, false),
                    new ApplyResult(10, 1, Kind.OK, "x", 0, false),
                    new ApplyResult(11, 1, Kind.OK, "k", 0, true),
                    new ApplyResult(12, 1, Kind.CONFLICT, "k", 0, false)), r);
            assertEquals(0, sm.size());
            assertEquals(12, sm.lastApplied());
        }
    }

    @Test
    void reapplyingIsANoOpAndGapsAreRefused() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(List.of(put(1, "a", "1"), put(2, "a", "2")));
            assertEquals(List.of(), sm.apply(List.of(put(1, "a", "old"), put(2, "a", "old"))));
            assertEquals("2", value(sm, "a"));
            // a batch that overlaps what was applied applies only the new part
            List<ApplyResult> r = sm.apply(List.of(put(2, "a", "old"), put(3, "b", "3")));
            assertEquals(1, r.size());
            assertEquals(3, r.get(0).index());
            assertEquals("2", value(sm, "a"));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> sm.apply(List.of(put(4, "c", "4"), put(6, "d", "6"))));
            assertTrue(e.getMessage().contains("gap"), e.getMessage());
            // the entries before the gap were applied
            assertEquals(4, sm.lastApplied());
            assertEquals("4", value(sm, "c"));
            assertEquals(Optional.empty(), sm.get("d"));
        }
    }

    @Test
    void undecodableCommandStopsBeforeIt() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> sm.apply(List.of(
                    put(1, "a", "1"),
                    new Entry(1, 2, EntryType.COMMAND, new byte[] {42, 42}),
                    put(3, "b", "2"))));
            assertTrue(e.getMessage().contains("entry 2"), e.getMessage());
            assertEquals(1, sm.lastApplied());
            assertEquals("1", value(sm, "a"));
            assertEquals(Optional.empty(), sm.get("b"));
        }
    }

    @Test
    void flushedStateSurvivesReopen() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(List.of(put(1, "a", "1"), put(2, "b", "2")));
            sm.flush();
            sm.flush(); // nothing new: no commit
        }
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            assertEquals(2, sm.lastApplied());
            assertEquals(2, sm.size());
            assertEquals(new KvEntry("b", b("2"), 2, 2), sm.get("b").orElseThrow());
            sm.apply(List.of(put(3, "c", "3")));
        } // close() flushes
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            assertEquals(3, sm.lastApplied());
            assertEquals(3, sm.size());
        }
    }

    @Test
    void crashWithoutFlushRollsBackDataAndLastAppliedTogether() {
        KvStateMachine sm = KvStateMachine.open(dir);
        sm.apply(List.of(put(1, "a", "1"), put(2, "b", "2")));
        sm.flush();
        sm.apply(List.of(put(3, "a", "changed"), cmd(4, KvCommand.delete("b")), put(5, "c", "new")));
        assertEquals(5, sm.lastApplied());
        assertEquals("changed", value(sm, "a"));
        sm.closeWithoutFlush();

        try (KvStateMachine again = KvStateMachine.open(dir)) {
            assertEquals(2, again.lastApplied());
            assertEquals("1", value(again, "a"));
            assertEquals("2", value(again, "b"));
            assertEquals(Optional.empty(), again.get("c"));
            assertEquals(2, again.size());
            // the node re-applies from its log: each entry exactly once
            List<Entry> log = List.of(put(1, "a", "1"), put(2, "b", "2"), put(3, "a", "changed"),
                    cmd(4, KvCommand.delete("b")), put(5, "c", "new"));
            assertEquals(3, again.apply(log).size());
            assertEquals(new KvEntry("a", b("changed"), 3, 1), again.get("a").orElseThrow());
            assertEquals(2, again.size());
        }
    }

    @Test
    void filesCopiedMidTransactionShowTheLastFlush() throws IOException {
        Path data = dir.resolve("data");
        Path crashed = dir.resolve("crashed");
        try (KvStateMachine sm = KvStateMachine.open(data)) {
            List<Entry> batch = new ArrayList<>();
            for (int i = 1; i <= 200; i++) {
                batch.add(put(i, "key" + i, "v" + i));
            }
            sm.apply(batch);
            sm.flush();
            batch.clear();
            for (int i = 201; i <= 400; i++) {
                batch.add(i % 2 == 0 ? put(i, "key" + (i - 200), "w" + i) : cmd(i, KvCommand.delete("key" + (i - 200))));
            }
            sm.apply(batch);
            copyDir(data, crashed); // what a kill -9 now would leave
        }
        try (KvStateMachine sm = KvStateMachine.open(crashed)) {
            assertEquals(200, sm.lastApplied());
            assertEquals(200, sm.size());
            for (int i = 1; i <= 200; i++) {
                assertEquals("v" + i, value(sm, "key" + i));
            }
        }
        try (KvStateMachine sm = KvStateMachine.open(data)) {
            assertEquals(400, sm.lastApplied());
            assertEquals(100, sm.size());
            assertEquals("w202", value(sm, "key2"));
            assertEquals(Optional.empty(), sm.get("key1"));
        }
    }

    @Test
    void prefixListing() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            List<String> keys = List.of("app/b", "app/a", "app", "apple", "b", "ap", "app/c/d", "app/\uFFFF", "app0");
            List<Entry> batch = new ArrayList<>();
            for (String k : keys) {
                batch.add(put(batch.size() + 1, k, k.toUpperCase()));
            }
            sm.apply(batch);

            KvListing all = sm.list("", 100);
            assertFalse(all.more());
            assertEquals(List.of("ap", "app", "app/a", "app/b", "app/c/d", "app/\uFFFF", "app0", "apple", "b"),
                    keys(all));

            KvListing page1 = sm.list("app/", 2);
            assertEquals(List.of("app/a", "app/b"), keys(page1));
            assertTrue(page1.more());
            KvListing page2 = sm.list("app/", page1.lastKey(), 2);
            assertEquals(List.of("app/c/d", "app/\uFFFF"), keys(page2));
            assertFalse(page2.more());
            assertEquals(List.of("app/a", "app/b", "app/c/d", "app/\uFFFF"), keys(sm.list("app/", 4)));
            assertFalse(sm.list("app/", 4).more());
            assertEquals(List.of("app", "app/a"), keys(sm.list("app", 2)));
            assertEquals(List.of(), keys(sm.list("zzz", 5)));
            assertEquals(List.of(), keys(sm.list("app/", "b", 5)));
            assertEquals(List.of("app/a"), keys(sm.list("app/", "a", 1)));

            KvEntry first = sm.list("app/a", 1).entries().get(0);
            assertArrayEquals(b("APP/A"), first.value());
            assertEquals(2, first.version());
            assertThrows(IllegalArgumentException.class, () -> sm.list("", 0));
        }
    }

    @Test
    void unicodeKeys() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            String[] keys = {"日本", "ключ", "🎉party", "tab\tkey", "", "nul\u0000"};
            List<Entry> batch = new ArrayList<>();
            for (String k : keys) {
                batch.add(put(batch.size() + 1, k, k));
            }
            sm.apply(batch);
            sm.flush();
        }
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            for (String k : new String[] {"日本", "ключ", "🎉party", "tab\tkey", "", "nul\u0000"}) {
                assertEquals(k, value(sm, k));
            }
            assertEquals(6, sm.size());
        }
    }

    @Test
    void randomOperationsMatchAMapModel() {
        Random rnd = new Random(5);
        Map<String, String> model = new java.util.TreeMap<>();
        long index = 0;
        KvStateMachine sm = KvStateMachine.open(dir);
        try {
            for (int round = 0; round < 30; round++) {
                List<Entry> batch = new ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    index++;
                    String key = "k" + rnd.nextInt(40);
                    if (rnd.nextInt(3) == 0) {
                        batch.add(cmd(index, KvCommand.delete(key)));
                        model.remove(key);
                    } else {
                        batch.add(put(index, key, "v" + index));
                        model.put(key, "v" + index);
                    }
                }
                sm.apply(batch);
                if (rnd.nextBoolean()) {
                    sm.flush();
                }
                if (round % 7 == 6) {
                    sm.close();
                    sm = KvStateMachine.open(dir);
                }
                assertEquals(model.size(), sm.size());
            }
            List<String> listed = new ArrayList<>();
            for (KvEntry e : sm.list("", 1000).entries()) {
                listed.add(e.key());
                assertEquals(model.get(e.key()), new String(e.value(), StandardCharsets.UTF_8));
                assertEquals(Long.parseLong(model.get(e.key()).substring(1)), e.version());
            }
            assertEquals(new ArrayList<>(model.keySet()), listed);
        } finally {
            sm.close();
        }
    }

    @Test
    void garbageFileIsReportedAndLeftAlone() throws IOException {
        Path file = dir.resolve(KvStateMachine.FILE_NAME);
        byte[] junk = new byte[50_000];
        new Random(2).nextBytes(junk);
        Files.write(file, junk);
        StorageException e = assertThrows(StorageException.class, () -> KvStateMachine.open(dir));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertArrayEquals(junk, Files.readAllBytes(file));
    }

    @Test
    void raftLogFileIsNotAKvStore() throws IOException {
        try (MapDbLogStorage log = MapDbLogStorage.open(dir)) {
            log.save(null, List.of(Entry.noop(1, 1)));
        }
        Path file = dir.resolve(KvStateMachine.FILE_NAME);
        Files.copy(dir.resolve(MapDbLogStorage.FILE_NAME), file);
        byte[] before = Files.readAllBytes(file);
        StorageException e = assertThrows(StorageException.class, () -> KvStateMachine.open(dir));
        assertTrue(e.getMessage().contains("not a raftkv KV store"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void damagedValueIsReported() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(List.of(put(1, "a", "1")));
        }
        try (DB db = DBMaker.fileDB(dir.resolve(KvStateMachine.FILE_NAME).toFile()).transactionEnable().make()) {
            Map<String, byte[]> kv = db.treeMap("kv", Serializer.STRING, Serializer.BYTE_ARRAY).open();
            kv.put("a", new byte[] {77});
            db.commit();
        }
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            StorageException e = assertThrows(StorageException.class, () -> sm.get("a"));
            assertTrue(e.getMessage().contains("key 'a'"), e.getMessage());
        }
    }

    @Test
    void dataDirectoryThatIsAFileIsReported() throws IOException {
        Path notADir = dir.resolve("file");
        Files.writeString(notADir, "x");
        StorageException e = assertThrows(StorageException.class, () -> KvStateMachine.open(notADir));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }

    @Test
    void closedStoreRefusesUse() {
        KvStateMachine sm = KvStateMachine.open(dir);
        sm.close();
        sm.close();
        assertThrows(IllegalStateException.class, () -> sm.get("a"));
        assertThrows(IllegalStateException.class, () -> sm.apply(List.of(put(1, "a", "1"))));
    }

    static List<String> keys(KvListing l) {
        return l.entries().stream().map(KvEntry::key).toList();
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Files.copy(p, to.resolve(p.getFileName()));
            }
        }
    }

    @Test
    void listKeysPagesThroughTheLockAndReportsSizesWithoutValues() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            List<Entry> batch = new java.util.ArrayList<>();
            int n = KvStateMachine.LIST_PAGE * 2 + 17;
            for (int i = 1; i <= n; i++) {
                batch.add(put(i, String.format("p/%05d", i), "x".repeat(i % 7)));
            }
            batch.add(put(n + 1, "q", "other prefix"));
            sm.apply(batch);
            KvStateMachine.KvKeyListing all = sm.listKeys("p/", 10_000);
            assertEquals(n, all.keys().size(), "every key across several pages");
            assertFalse(all.more());
            for (int i = 1; i <= n; i++) {
                KvKeyInfo k = all.keys().get(i - 1);
                assertEquals(String.format("p/%05d", i), k.key());
                assertEquals(i, k.version());
                assertEquals(i % 7, k.valueBytes());
            }
            KvStateMachine.KvKeyListing some = sm.listKeys("p/", KvStateMachine.LIST_PAGE + 3);
            assertEquals(KvStateMachine.LIST_PAGE + 3, some.keys().size());
            assertTrue(some.more());
            KvStateMachine.KvKeyListing exact = sm.listKeys("p/", n);
            assertFalse(exact.more(), "limit equal to the count: nothing more");
            assertEquals(List.of(), sm.listKeys("none/", 5).keys());
        }
    }
}
