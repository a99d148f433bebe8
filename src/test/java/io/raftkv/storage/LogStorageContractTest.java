package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.MemoryLogStorage;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link RaftLogStore} must do, whatever its files: run for each store by a subclass that says how to open
 * one and how to hook into its writes.
 */
public abstract class LogStorageContractTest {

    @TempDir
    protected Path dir;

    /** Opens (creating if needed) the store of data directory {@code dataDir}. */
    protected abstract RaftLogStore open(Path dataDir);

    /** Makes {@code hook} run at the start of every write of {@code s}, before it reaches the files (null: none). */
    protected abstract void beforeWrite(RaftLogStore s, Runnable hook);

    /** The file or directory that error messages about a write must name. */
    protected abstract Path storeFile(Path dataDir);

    public static Entry cmd(long term, long index, String data) {
        return new Entry(term, index, EntryType.COMMAND, data.getBytes(StandardCharsets.UTF_8));
    }

    /** Entries {@code from..to} with the given term, data "i@term". */
    public static List<Entry> run(long from, long to, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) {
            out.add(cmd(term, i, i + "@" + term));
        }
        return out;
    }

    public static List<Entry> all(RaftLogStore s) {
        return s.entries(s.firstIndex(), s.lastIndex() + 1, Long.MAX_VALUE);
    }

    @Test
    public void newLogIsEmpty() {
        try (RaftLogStore s = open(dir)) {
            assertEquals(1, s.firstIndex());
            assertEquals(0, s.lastIndex());
            assertEquals(0, s.term(0));
            assertEquals(HardState.EMPTY, s.hardState());
            assertEquals(List.of(), s.entries(1, 1, 100));
            assertTrue(s.sizeOnDiskBytes() > 0);
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(0, s.lastIndex());
            assertEquals(HardState.EMPTY, s.hardState());
        }
    }

    @Test
    public void createsMissingDataDirectory() {
        Path nested = dir.resolve("a/b/c");
        try (RaftLogStore s = open(nested)) {
            assertEquals(0, s.lastIndex());
        }
        assertTrue(Files.exists(storeFile(nested)));
    }

    @Test
    public void saveAndReopenKeepsHardStateAndEntries() {
        List<Entry> entries = new ArrayList<>(run(1, 3, 1));
        entries.add(Entry.noop(2, 4));
        entries.add(new Entry(2, 5, EntryType.CONFIG, new byte[] {1, 2, 3}));
        entries.add(new Entry(2, 6, EntryType.COMMAND, new byte[0]));
        HardState hs = new HardState(2, "node-ü2", 4);
        try (RaftLogStore s = open(dir)) {
            s.save(hs, entries);
            assertEquals(hs, s.hardState());
            assertEquals(6, s.lastIndex());
            assertEquals(entries, all(s));
        }
        try (RaftLogStore s = open(dir)) {
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
        try (RaftLogStore s = open(dir)) {
            assertEquals(new HardState(3, null, 4), s.hardState());
        }
    }

    @Test
    public void hardStateOnlyAndEntriesOnlySaves() {
        try (RaftLogStore s = open(dir)) {
            s.save(new HardState(1, "n1", 0), List.of());
            s.save(null, run(1, 2, 1));
            s.save(null, List.of()); // nothing to do
            assertEquals(new HardState(1, "n1", 0), s.hardState());
            assertEquals(2, s.lastIndex());
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(new HardState(1, "n1", 0), s.hardState());
            assertEquals(run(1, 2, 1), all(s));
        }
    }

    @Test
    public void conflictingAppendTruncatesTheSuffix() {
        try (RaftLogStore s = open(dir)) {
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
        try (RaftLogStore s = open(dir)) {
            assertEquals(4, s.lastIndex());
            assertEquals(4, s.term(4));
            assertEquals(cmd(4, 4, "4@4"), s.entries(4, 5, 0).get(0));
            s.save(null, run(5, 6, 4));
            assertEquals(6, s.lastIndex());
        }
    }

    @Test
    public void refusesWritesThatBreakTheLog() {
        try (RaftLogStore s = open(dir)) {
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
    public void readBoundsAreChecked() {
        try (RaftLogStore s = open(dir)) {
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
    public void entriesHonourMaxBytesButReturnAtLeastOne() {
        try (RaftLogStore s = open(dir)) {
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
    public void largeBatchesAndLargeEntriesAreSplitIntoRecords() {
        Random rnd = new Random(7);
        List<Entry> entries = new ArrayList<>();
        for (int i = 1; i <= 1000; i++) {
            byte[] data = new byte[i % 97 == 0 ? 700_000 : rnd.nextInt(64)];
            rnd.nextBytes(data);
            entries.add(new Entry(1 + i / 400, i, EntryType.COMMAND, data));
        }
        try (RaftLogStore s = open(dir)) {
            s.save(null, entries);
            assertEquals(entries, all(s));
            s.save(null, entries.subList(299, 301)); // truncate to 301 in the middle of a record
            assertEquals(entries.subList(0, 301), all(s));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(entries.subList(0, 301), all(s));
            s.save(null, entries.subList(301, 1000));
            assertEquals(entries, all(s));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(entries, all(s));
        }
    }

    /** Random appends, truncations, reads and reopens, checked against the in-memory reference storage. */
    @Test
    public void behavesLikeTheMemoryStorage() {
        Random rnd = new Random(42);
        MemoryLogStorage ref = new MemoryLogStorage();
        RaftLogStore s = open(dir);
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
                    s = open(dir);
                }
                assertEquals(ref.lastIndex(), s.lastIndex());
                assertEquals(ref.hardState(), s.hardState());
            }
            assertEquals(ref.all(), all(s));
        } finally {
            s.close();
        }
        try (RaftLogStore again = open(dir)) {
            assertEquals(ref.all(), all(again));
        }
    }

    @Test
    public void resetToASnapshotBeyondTheLog() {
        HardState hs = new HardState(4, "n2", 6);
        try (RaftLogStore s = open(dir)) {
            s.save(hs, run(1, 6, 2));
            s.resetTo(new SnapshotMeta(40, 3));
            assertEquals(41, s.firstIndex());
            assertEquals(40, s.lastIndex());
            assertEquals(3, s.term(40));
            assertEquals(hs, s.hardState(), "the hard state survives the reset");
            assertThrows(IndexOutOfBoundsException.class, () -> s.term(6));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(41, s.firstIndex());
            assertEquals(40, s.lastIndex());
            assertEquals(3, s.term(40));
            assertEquals(hs, s.hardState());
            s.save(new HardState(4, "n2", 42), run(41, 43, 4));
            assertEquals(run(41, 43, 4), all(s));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(run(41, 43, 4), all(s));
            assertEquals(3, s.term(40));
            assertEquals(42, s.hardState().commit());
        }
    }

    @Test
    public void resetToASnapshotInsideTheLogWithAnotherTerm() {
        try (RaftLogStore s = open(dir)) {
            s.save(new HardState(5, null, 2), run(1, 10, 1));
            s.resetTo(new SnapshotMeta(5, 3)); // the leader's entry 5 has term 3: everything here is replaced
            assertEquals(6, s.firstIndex());
            assertEquals(5, s.lastIndex());
            assertEquals(3, s.term(5));
            s.save(null, run(6, 7, 3));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(6, s.firstIndex());
            assertEquals(3, s.term(5));
            assertEquals(run(6, 7, 3), all(s));
            s.resetTo(new SnapshotMeta(7, 3)); // and again, on top of a reset log
            s.save(null, run(8, 8, 4));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(8, s.firstIndex());
            assertEquals(run(8, 8, 4), all(s));
        }
    }

    @Test
    public void compactionMovesTheFirstIndex() {
        try (RaftLogStore s = open(dir)) {
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
        try (RaftLogStore s = open(dir)) {
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
        try (RaftLogStore s = open(dir)) {
            assertEquals(13, s.firstIndex());
            assertEquals(12, s.lastIndex());
            assertEquals(4, s.term(12));
            s.save(null, run(13, 14, 5));
            assertEquals(run(13, 14, 5), all(s));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(run(13, 14, 5), all(s));
            assertThrows(IllegalArgumentException.class, () -> s.compact(11));
            assertThrows(IllegalArgumentException.class, () -> s.compact(15));
        }
    }

    @Test
    public void crashBeforeCommitKeepsThePreviousState() throws IOException {
        Path crashed = dir.resolve("crashed");
        Path data = dir.resolve("data");
        try (RaftLogStore s = open(data)) {
            s.save(new HardState(1, "a", 1), run(1, 3, 1));
            // Copy the files at the instant before the next commit: what a kill -9 there would leave on disk.
            beforeWrite(s, () -> copyDir(data, crashed));
            s.save(new HardState(2, "b", 3), run(2, 6, 2));
            beforeWrite(s, null);
            assertEquals(6, s.lastIndex());
        }
        try (RaftLogStore s = open(crashed)) {
            assertEquals(new HardState(1, "a", 1), s.hardState());
            assertEquals(run(1, 3, 1), all(s));
            s.save(null, run(4, 4, 1)); // and it is writable
        }
        try (RaftLogStore s = open(data)) {
            assertEquals(new HardState(2, "b", 3), s.hardState());
            List<Entry> expected = new ArrayList<>(run(1, 1, 1));
            expected.addAll(run(2, 6, 2));
            assertEquals(expected, all(s));
        }
    }

    @Test
    public void failedWriteRollsBackAndRefusesFurtherWrites() {
        RaftLogStore s = open(dir);
        s.save(new HardState(1, "a", 0), run(1, 3, 1));
        beforeWrite(s, () -> {
            throw new IllegalStateException("disk on fire");
        });
        StorageException e = assertThrows(StorageException.class, () -> s.save(new HardState(2, null, 0), run(2, 9, 2)));
        assertTrue(e.getMessage().contains(storeFile(dir).toString()), e.getMessage());
        assertTrue(e.getMessage().contains("disk on fire"), e.getMessage());
        // nothing of the failed save is visible
        assertEquals(3, s.lastIndex());
        assertEquals(new HardState(1, "a", 0), s.hardState());
        assertEquals(run(1, 3, 1), all(s));
        beforeWrite(s, null);
        assertThrows(StorageException.class, () -> s.save(null, run(4, 4, 1)));
        s.close(); // closes without committing anything
        try (RaftLogStore again = open(dir)) {
            assertEquals(new HardState(1, "a", 0), again.hardState());
            assertEquals(run(1, 3, 1), all(again));
        }
    }

    @Test
    public void dataDirectoryThatIsAFileIsReported() throws IOException {
        Path notADir = dir.resolve("plain-file");
        Files.writeString(notADir, "x");
        StorageException e = assertThrows(StorageException.class, () -> open(notADir));
        assertTrue(e.getMessage().contains(notADir.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }

    @Test
    public void secondOpenOfTheSameDirectoryIsRefused() {
        try (RaftLogStore s = open(dir)) {
            s.save(null, run(1, 1, 1));
            StorageException e = assertThrows(StorageException.class, () -> open(dir));
            assertTrue(e.getMessage().contains("locked"), e.getMessage());
            assertEquals(1, s.lastIndex());
        }
    }

    @Test
    public void closedStorageRefusesUse() {
        RaftLogStore s = open(dir);
        s.save(null, run(1, 2, 1));
        s.close();
        s.close(); // idempotent
        assertEquals(2, s.lastIndex()); // status reads still answer
        assertThrows(IllegalStateException.class, () -> s.entries(1, 2, 10));
        assertThrows(IllegalStateException.class, () -> s.save(null, run(3, 3, 1)));
    }


    @Test
    public void crashAfterTheWriteKeepsTheNewState() {
        Path crashed = dir.resolve("crashed");
        Path data = dir.resolve("data");
        try (RaftLogStore s = open(data)) {
            s.save(new HardState(1, "a", 1), run(1, 3, 1));
            s.save(new HardState(2, "b", 2), run(3, 5, 2)); // a truncation
            copyDir(data, crashed); // what a kill -9 right after the save returned leaves
        }
        try (RaftLogStore s = open(crashed)) {
            assertEquals(new HardState(2, "b", 2), s.hardState());
            List<Entry> expected = new ArrayList<>(run(1, 2, 1));
            expected.addAll(run(3, 5, 2));
            assertEquals(expected, all(s));
        }
    }

    @Test
    public void compactionThenTruncationThenReopen() {
        try (RaftLogStore s = open(dir)) {
            for (int i = 1; i <= 300; i += 10) {
                s.save(new HardState(1 + i / 100, null, Math.max(0, i - 20)), run(i, i + 9, 1 + i / 100));
            }
            s.compact(150);
            s.save(null, run(281, 285, 9)); // truncate 281..300
            s.compact(200);
            assertEquals(201, s.firstIndex());
            assertEquals(2, s.term(200));
        }
        try (RaftLogStore s = open(dir)) {
            assertEquals(201, s.firstIndex());
            assertEquals(285, s.lastIndex());
            assertEquals(2, s.term(200));
            assertEquals(9, s.term(285));
            assertEquals(new HardState(3, null, 271), s.hardState());
            List<Entry> expected = new ArrayList<>();
            for (int i = 201; i <= 280; i += 10) {
                expected.addAll(run(i, i + 9, 1 + i / 100));
            }
            expected.addAll(run(281, 285, 9));
            assertEquals(expected, all(s));
        }
    }

    /** Copies a directory tree (what a crash at this instant would leave on disk). */
    public static void copyDir(Path from, Path to) {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
