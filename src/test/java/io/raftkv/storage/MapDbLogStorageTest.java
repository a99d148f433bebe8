package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.MemoryLogStorage;
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
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MapDbLogStorageTest {

    @TempDir
    Path dir;

    static Entry cmd(long term, long index, String data) {
        return new Entry(term, index, EntryType.COMMAND, data.getBytes(StandardCharsets.UTF_8));
    }

    /** Entries {@code from..to} with the given term, data "i@term". */
    static List<Entry> run(long from, long to, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(cmd(term, i, i + "@" + term));
        }
        return out;
    }

    static List<Entry> all(MapDbLogStorage s) {
        return s.entries(s.firstIndex(), s.lastIndex() + 1, Long.MAX_VALUE);
    }

    @Test
    void newLogIsEmpty() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(1, s.firstIndex());
            assertEquals(0, s.lastIndex());
            assertEquals(0, s.term(0));
            assertEquals(HardState.EMPTY, s.hardState());
            assertEquals(List.of(), s.entries(1, 1, 100));
            assertTrue(Files.isRegularFile(dir.resolve(MapDbLogStorage.FILE_NAME)));
            assertTrue(s.sizeOnDiskBytes() > 0);
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(0, s.lastIndex());
            assertEquals(HardState.EMPTY, s.hardState());
        }
    }

    @Test
    void createsMissingDataDirectory() {
        Path nested = dir.resolve("a/b/c");
        try (MapDbLogStorage s = MapDbLogStorage.open(nested)) {
            assertEquals(0, s.lastIndex());
        }
        assertTrue(Files.isRegularFile(nested.resolve(MapDbLogStorage.FILE_NAME)));
    }

    @Test
    void saveAndReopenKeepsHardStateAndEntries() {
        List<Entry> entries = new ArrayList<>(run(1, 3, 1));
        entries.add(Entry.noop(2, 4));
        entries.add(new Entry(2, 5, EntryType.CONFIG, new byte[] {1, 2, 3}));
        entries.add(new Entry(2, 6, EntryType.COMMAND, new byte[0]));
        HardState hs = new HardState(2, "node-ü2", 4);
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(hs, entries);
            assertEquals(hs, s.hardState());
            assertEquals(6, s.lastIndex());
            assertEquals(entries, all(s));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(hs, s.hardState());
            assertEquals(1, s.firstIndex());
            assertEquals(6, s.lastIndex());
            assertEquals(0, s.term(0));
            assertEquals(1, s.term(3));
            assertEquals(2, s.term(6));
            assertEquals(entries, all(s));
            assertEquals(entries.subList(2, 4), s.entries(3, 5, Long.MAX_VALUE));
            // the vote can be cleared again (new term)
            s.save(new HardState(3, null, 4), List.of());
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(new HardState(3, null, 4), s.hardState());
        }
    }

    @Test
    void hardStateOnlyAndEntriesOnlySaves() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(new HardState(1, "n1", 0), List.of());
            s.save(null, run(1, 2, 1));
            s.save(null, List.of()); // nothing to do
            assertEquals(new HardState(1, "n1", 0), s.hardState());
            assertEquals(2, s.lastIndex());
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(new HardState(1, "n1", 0), s.hardState());
            assertEquals(run(1, 2, 1), all(s));
        }
    }

    @Test
    void conflictingAppendTruncatesTheSuffix() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(null, run(1, 5, 1));
            s.save(null, run(6, 8, 2));
            // replace 4..8 (the middle of the first record and all of the second) with 4..6 of term 3
            s.save(new HardState(3, null, 2), run(4, 6, 3));
            assertEquals(6, s.lastIndex());
            List<Entry> expected = new ArrayList<>(run(1, 3, 1));
            expected.addAll(run(4, 6, 3));
            assertEquals(expected, all(s));
            assertEquals(3, s.term(6));
            assertThrows(IndexOutOfBoundsException.class, () -> s.term(7));
            // truncating at a record boundary, to a shorter log
            s.save(null, run(4, 4, 4));
            expected = new ArrayList<>(run(1, 3, 1));
            expected.add(cmd(4, 4, "4@4"));
            assertEquals(expected, all(s));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(4, s.lastIndex());
            assertEquals(4, s.term(4));
            assertEquals(cmd(4, 4, "4@4"), s.entries(4, 5, 0).get(0));
            s.save(null, run(5, 6, 4));
            assertEquals(6, s.lastIndex());
        }
    }

    @Test
    void refusesWritesThatBreakTheLog() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(new HardState(2, null, 3), run(1, 5, 2));
            assertThrows(IllegalStateException.class, () -> s.save(null, run(7, 8, 2)), "gap");
            assertThrows(IllegalStateException.class, () -> s.save(null, List.of(cmd(2, 6, "a"), cmd(2, 8, "b"))),
                    "not consecutive");
            assertThrows(IllegalStateException.class, () -> s.save(null, run(6, 6, 1)), "lower term");
            assertThrows(IllegalStateException.class, () -> s.save(null, run(3, 4, 3)), "changes committed entry 3");
            assertThrows(IllegalStateException.class, () -> s.save(null, run(2, 2, 2)), "removes committed entry 3");
            // rewriting committed entries identically and replacing what follows is fine
            s.save(null, run(3, 4, 2).subList(0, 1));
            assertEquals(3, s.lastIndex());
            assertEquals(run(1, 3, 2), all(s));
        }
    }

    @Test
    void readBoundsAreChecked() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(null, run(1, 3, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> s.entries(0, 2, 100));
            assertThrows(IndexOutOfBoundsException.class, () -> s.entries(1, 5, 100));
            assertThrows(IndexOutOfBoundsException.class, () -> s.entries(3, 2, 100));
            assertThrows(IndexOutOfBoundsException.class, () -> s.term(-1));
            assertThrows(IndexOutOfBoundsException.class, () -> s.term(4));
            assertEquals(List.of(), s.entries(4, 4, 100));
        }
    }

    @Test
    void entriesHonourMaxBytesButReturnAtLeastOne() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            List<Entry> entries = new ArrayList<>();
            for (int i = 1; i <= 10; i++) {
                entries.add(new Entry(1, i, EntryType.COMMAND, new byte[100])); // 117 bytes each
            }
            s.save(null, entries.subList(0, 4));
            s.save(null, entries.subList(4, 10));
            assertEquals(1, s.entries(1, 11, 0).size());
            assertEquals(1, s.entries(1, 11, 117).size());
            assertEquals(1, s.entries(1, 11, 233).size());
            assertEquals(2, s.entries(1, 11, 234).size());
            assertEquals(entries.subList(2, 7), s.entries(3, 11, 5 * 117 + 50));
            assertEquals(entries, s.entries(1, 11, Long.MAX_VALUE));
            assertEquals(1, s.entries(10, 11, 1).size());
        }
    }

    @Test
    void largeBatchesAndLargeEntriesAreSplitIntoRecords() {
        Random rnd = new Random(7);
        List<Entry> entries = new ArrayList<>();
        for (int i = 1; i <= 1000; i++) {
            byte[] data = new byte[i % 97 == 0 ? 700_000 : rnd.nextInt(64)];
            rnd.nextBytes(data);
            entries.add(new Entry(1 + i / 400, i, EntryType.COMMAND, data));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(null, entries);
            assertEquals(entries, all(s));
            s.save(null, entries.subList(299, 301)); // truncate to 301 in the middle of a record
            assertEquals(entries.subList(0, 301), all(s));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(entries.subList(0, 301), all(s));
            s.save(null, entries.subList(301, 1000));
            assertEquals(entries, all(s));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(entries, all(s));
        }
    }

    /** Random appends, truncations, reads and reopens, checked against the in-memory reference storage. */
    @Test
    void behavesLikeTheMemoryStorage() {
        Random rnd = new Random(42);
        MemoryLogStorage ref = new MemoryLogStorage();
        MapDbLogStorage s = MapDbLogStorage.open(dir);
        try {
            long term = 1;
            for (int step = 0; step < 400; step++) {
                int op = rnd.nextInt(10);
                if (op < 6) {
                    long last = ref.lastIndex();
                    long first = Math.max(1, last + 1 - (op == 0 ? rnd.nextInt(20) : 0));
                    if (op == 0) {
                        term++;
                    }
                    List<Entry> batch = new ArrayList<>();
                    int n = rnd.nextInt(op == 1 ? 600 : 8);
                    for (int i = 0; i < n; i++) {
                        byte[] data = new byte[rnd.nextInt(300)];
                        rnd.nextBytes(data);
                        batch.add(new Entry(term, first + i, rnd.nextInt(5) == 0 ? EntryType.NOOP : EntryType.COMMAND,
                                data));
                    }
                    HardState hs = rnd.nextBoolean() ? new HardState(term, rnd.nextBoolean() ? "n" + term : null, 0) : null;
                    ref.save(hs, batch);
                    s.save(hs, batch);
                } else if (op < 9 && ref.lastIndex() > 0) {
                    long lo = 1 + rnd.nextInt((int) ref.lastIndex());
                    long hi = lo + rnd.nextInt((int) (ref.lastIndex() - lo + 2));
                    long max = rnd.nextInt(5000);
                    assertEquals(ref.entries(lo, hi, max), s.entries(lo, hi, max), "entries " + lo + ".." + hi);
                    long i = rnd.nextInt((int) ref.lastIndex() + 1);
                    assertEquals(ref.term(i), s.term(i));
                } else {
                    s.close();
                    s = MapDbLogStorage.open(dir);
                }
                assertEquals(ref.lastIndex(), s.lastIndex());
                assertEquals(ref.hardState(), s.hardState());
            }
            assertEquals(ref.all(), all(s));
        } finally {
            s.close();
        }
        try (MapDbLogStorage again = MapDbLogStorage.open(dir)) {
            assertEquals(ref.all(), all(again));
        }
    }

    @Test
    void compactionMovesTheFirstIndex() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(new HardState(3, null, 8), run(1, 4, 1));
            s.save(null, run(5, 6, 2));
            s.save(null, run(7, 10, 3));
            s.compact(5); // in the middle of the second record
            assertEquals(6, s.firstIndex());
            assertEquals(10, s.lastIndex());
            assertEquals(2, s.term(5));
            assertThrows(IndexOutOfBoundsException.class, () -> s.term(4));
            assertThrows(IndexOutOfBoundsException.class, () -> s.entries(5, 7, 100));
            assertEquals(run(6, 6, 2), s.entries(6, 7, Long.MAX_VALUE));
            assertThrows(IllegalStateException.class, () -> s.save(null, run(5, 5, 2)));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(6, s.firstIndex());
            assertEquals(2, s.term(5));
            List<Entry> expected = new ArrayList<>(run(6, 6, 2));
            expected.addAll(run(7, 10, 3));
            assertEquals(expected, all(s));
            s.save(null, run(9, 12, 4)); // truncate after compaction
            s.compact(12); // everything
            assertEquals(13, s.firstIndex());
            assertEquals(12, s.lastIndex());
            assertEquals(4, s.term(12));
            assertEquals(List.of(), s.entries(13, 13, 10));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(13, s.firstIndex());
            assertEquals(12, s.lastIndex());
            assertEquals(4, s.term(12));
            s.save(null, run(13, 14, 5));
            assertEquals(run(13, 14, 5), all(s));
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            assertEquals(run(13, 14, 5), all(s));
            assertThrows(IllegalArgumentException.class, () -> s.compact(11));
            assertThrows(IllegalArgumentException.class, () -> s.compact(15));
        }
    }

    @Test
    void crashBeforeCommitKeepsThePreviousState() throws IOException {
        Path crashed = dir.resolve("crashed");
        Path data = dir.resolve("data");
        try (MapDbLogStorage s = MapDbLogStorage.open(data)) {
            s.save(new HardState(1, "a", 1), run(1, 3, 1));
            // Copy the files at the instant before the next commit: what a kill -9 there would leave on disk.
            s.beforeCommit(() -> copyDir(data, crashed));
            s.save(new HardState(2, "b", 3), run(2, 6, 2));
            s.beforeCommit(null);
            assertEquals(6, s.lastIndex());
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(crashed)) {
            assertEquals(new HardState(1, "a", 1), s.hardState());
            assertEquals(run(1, 3, 1), all(s));
            s.save(null, run(4, 4, 1)); // and it is writable
        }
        try (MapDbLogStorage s = MapDbLogStorage.open(data)) {
            assertEquals(new HardState(2, "b", 3), s.hardState());
            List<Entry> expected = new ArrayList<>(run(1, 1, 1));
            expected.addAll(run(2, 6, 2));
            assertEquals(expected, all(s));
        }
    }

    @Test
    void failedWriteRollsBackAndRefusesFurtherWrites() {
        MapDbLogStorage s = MapDbLogStorage.open(dir);
        s.save(new HardState(1, "a", 0), run(1, 3, 1));
        s.beforeCommit(() -> {
            throw new IllegalStateException("disk on fire");
        });
        StorageException e = assertThrows(StorageException.class, () -> s.save(new HardState(2, null, 0), run(2, 9, 2)));
        assertTrue(e.getMessage().contains(dir.resolve(MapDbLogStorage.FILE_NAME).toString()), e.getMessage());
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
        // nothing of the failed save is visible
        assertEquals(3, s.lastIndex());
        assertEquals(new HardState(1, "a", 0), s.hardState());
        assertEquals(run(1, 3, 1), all(s));
        s.beforeCommit(null);
        assertThrows(StorageException.class, () -> s.save(null, run(4, 4, 1)));
        s.close(); // closes without committing anything
        try (MapDbLogStorage again = MapDbLogStorage.open(dir)) {
            assertEquals(new HardState(1, "a", 0), again.hardState());
            assertEquals(run(1, 3, 1), all(again));
        }
    }

    @Test
    void garbageFileIsReportedAndLeftAlone() throws IOException {
        Path file = dir.resolve(MapDbLogStorage.FILE_NAME);
        byte[] junk = new byte[100_000];
        new Random(1).nextBytes(junk);
        Files.write(file, junk);
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertArrayEquals(junk, Files.readAllBytes(file));
    }

    @Test
    void textAndEmptyFilesAreReported() throws IOException {
        Path file = dir.resolve(MapDbLogStorage.FILE_NAME);
        Files.writeString(file, "hello, I am not a database\n");
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertEquals("hello, I am not a database\n", Files.readString(file));

        Files.write(file, new byte[0]);
        e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertEquals(0, Files.size(file));
    }

    @Test
    void foreignMapDbFileIsReportedAndLeftAlone() throws IOException {
        Path file = dir.resolve(MapDbLogStorage.FILE_NAME);
        try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
            db.hashMap("something", Serializer.STRING, Serializer.STRING).create().put("a", "b");
            db.commit();
        }
        byte[] before = Files.readAllBytes(file);
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a raftkv raft log"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void damagedRecordIsReportedAndLeftAlone() throws IOException {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(null, run(1, 3, 1));
            s.save(null, run(4, 6, 1));
        }
        Path file = dir.resolve(MapDbLogStorage.FILE_NAME);
        try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
            Map<Long, byte[]> records = db.treeMap("entries", Serializer.LONG, Serializer.BYTE_ARRAY).open();
            byte[] rec = records.get(4L);
            rec[rec.length - 1] ^= 1; // flip a bit of the last entry's data
            records.put(4L, rec);
            db.commit();
        }
        byte[] before = Files.readAllBytes(file);
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
    }

    @Test
    void nonContiguousRecordsAreReported() throws IOException {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(null, run(1, 3, 1));
        }
        Path file = dir.resolve(MapDbLogStorage.FILE_NAME);
        try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
            Map<Long, byte[]> records = db.treeMap("entries", Serializer.LONG, Serializer.BYTE_ARRAY).open();
            records.put(5L, EntryCodec.encode(run(5, 6, 1)));
            db.commit();
        }
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains("not contiguous"), e.getMessage());

        try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
            Map<Long, byte[]> records = db.treeMap("entries", Serializer.LONG, Serializer.BYTE_ARRAY).open();
            records.remove(5L);
            records.put(4L, EntryCodec.encode(run(5, 6, 1))); // key does not match the entries
            db.commit();
        }
        e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains("keyed 4"), e.getMessage());
    }

    @Test
    void dataDirectoryThatIsAFileIsReported() throws IOException {
        Path notADir = dir.resolve("plain-file");
        Files.writeString(notADir, "x");
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(notADir));
        assertTrue(e.getMessage().contains(notADir.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }

    @Test
    void logFileThatIsADirectoryIsReported() throws IOException {
        Files.createDirectories(dir.resolve(MapDbLogStorage.FILE_NAME));
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }

    @Test
    void secondOpenOfTheSameDirectoryIsRefused() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(null, run(1, 1, 1));
            StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
            assertTrue(e.getMessage().contains("locked"), e.getMessage());
            assertEquals(1, s.lastIndex());
        }
    }

    @Test
    void closedStorageRefusesUse() {
        MapDbLogStorage s = MapDbLogStorage.open(dir);
        s.save(null, run(1, 2, 1));
        s.close();
        s.close(); // idempotent
        assertEquals(2, s.lastIndex()); // status reads still answer
        assertThrows(IllegalStateException.class, () -> s.entries(1, 2, 10));
        assertThrows(IllegalStateException.class, () -> s.save(null, run(3, 3, 1)));
    }

    static void copyDir(Path from, Path to) {
        try {
            Files.createDirectories(to);
            try (Stream<Path> files = Files.list(from)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    if (Files.isRegularFile(p)) {
                        Files.copy(p, to.resolve(p.getFileName()));
                    }
                }
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
