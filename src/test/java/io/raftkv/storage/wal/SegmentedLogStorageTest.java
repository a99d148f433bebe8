package io.raftkv.storage.wal;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.storage.LogStorageContractTest;
import io.raftkv.storage.StorageException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static io.raftkv.storage.LogStorageContractTest.all;
import static io.raftkv.storage.LogStorageContractTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recovery, segment rolling and compaction of {@link SegmentedLogStorage}: what is specific to its files. */
class SegmentedLogStorageTest {

    private static final long SMALL = 4096;

    @TempDir
    Path dir;

    private Path wal() {
        return dir.resolve(SegmentedLogStorage.DIR_NAME);
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> s = Files.list(wal())) {
            return s.filter(p -> WalFormat.parseFileName(p.getFileName().toString()) >= 0).sorted().toList();
        }
    }

    /** Every file of the WAL directory and its bytes. */
    private Map<String, byte[]> snapshot() throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(wal())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private void assertUnchanged(Map<String, byte[]> before) throws IOException {
        Map<String, byte[]> after = snapshot();
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) {
            assertArrayEquals(before.get(name), after.get(name), name + " was changed");
        }
    }

    /** Offsets of the records of a segment file, read with the format (not with the code under test). */
    static List<Long> recordOffsets(Path segment) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        List<Long> out = new ArrayList<>();
        int pos = WalFormat.HEADER_BYTES;
        while (pos + WalFormat.FRAME_BYTES <= b.length) {
            int len = ByteBuffer.wrap(b, pos, 4).getInt();
            if (len == 0 && b[pos + 4] == 0) {
                break;
            }
            out.add((long) pos);
            pos += WalFormat.FRAME_BYTES + len;
        }
        return out;
    }

    private static void flipBit(Path file, long offset) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) offset] ^= 0x10;
        Files.write(file, b);
    }

    private StorageException refusedNamingFileAndOffset(Path file, long offset) throws IOException {
        Map<String, byte[]> before = snapshot();
        StorageException e = assertThrows(StorageException.class, () -> SegmentedLogStorage.open(dir, SMALL));
        assertTrue(e.getMessage().contains(file.toAbsolutePath().toString()), e.getMessage());
        assertTrue(e.getMessage().contains("offset " + offset), e.getMessage());
        assertUnchanged(before);
        return e;
    }

    private static Entry data(long term, long index, int bytes) {
        byte[] d = new byte[bytes];
        Arrays.fill(d, (byte) (index * 31 + term));
        return new Entry(term, index, EntryType.COMMAND, d);
    }

    // ------------------------------------------------------------------------------------------ torn tails

    @Test
    void tornLastSaveIsCutAtEveryByteOffset() throws IOException {
        HardState hsBefore = new HardState(2, "n1", 3);
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, 1 << 16)) {
            s.save(new HardState(1, "n1", 0), run(1, 4, 1));
            s.save(hsBefore, run(5, 6, 2));
        }
        Path seg = segmentFiles().get(0);
        byte[] before = Files.readAllBytes(seg);
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, 1 << 16)) {
            // the last save: two records (entries, then the hard state) in one group
            s.save(new HardState(3, "n2", 6), List.of(data(3, 7, 40), data(3, 8, 40)));
        }
        assertEquals(1, segmentFiles().size());
        byte[] after = Files.readAllBytes(seg);
        int from = 0;
        while (before[from] == after[from]) {
            from++;
        }
        int to = after.length;
        while (before[to - 1] == after[to - 1]) {
            to--;
        }
        assertTrue(to - from > 2 * WalFormat.FRAME_BYTES + 80, "the last save spans " + from + ".." + to);
        List<Entry> expected = new ArrayList<>(run(1, 4, 1));
        expected.addAll(run(5, 6, 2));
        for (int k = from; k <= to; k++) {
            for (boolean truncate : new boolean[] {true, false}) {
                byte[] torn = truncate ? Arrays.copyOf(after, k) : after.clone();
                if (!truncate) {
                    Arrays.fill(torn, k, torn.length, (byte) 0);
                }
                Files.write(seg, torn);
                String at = (truncate ? "truncated" : "zeroed") + " at " + k;
                try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, 1 << 16)) {
                    if (k == to) {
                        assertEquals(8, s.lastIndex(), at);
                        assertEquals(new HardState(3, "n2", 6), s.hardState(), at);
                        continue;
                    }
                    assertEquals(expected, all(s), at);
                    assertEquals(hsBefore, s.hardState(), at);
                    if (k % 7 == 0 || k == from || k == to - 1) { // and the log goes on over the cut tail
                        s.save(new HardState(4, null, 6), run(7, 7, 4));
                    }
                }
                if (k % 7 == 0 || k == from || k == to - 1) {
                    try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, 1 << 16)) {
                        assertEquals(new HardState(4, null, 6), s.hardState(), at);
                        assertEquals(run(7, 7, 4), s.entries(7, 8, Long.MAX_VALUE), at);
                        assertEquals(expected, s.entries(1, 7, Long.MAX_VALUE), at);
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ corruption

    @Test
    void aCrashBeforeAResetDeletesTheOldSegmentsStillRecoversTheReset() throws IOException {
        // Older segments left behind (as if the crash came between the reset segment's creation and their deletion).
        Path saved = dir.resolve("saved");
        Files.createDirectories(saved);
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            for (int i = 1; i <= 400; i++) {
                s.save(new HardState(2, "n1", i - 1), run(i, i, 2));
            }
            assertTrue(s.segmentCount() > 2, "several segments: " + s.segmentCount());
        }
        List<Path> before = segmentFiles();
        for (Path f : before) {
            Files.copy(f, saved.resolve(f.getFileName()));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            s.resetTo(new io.raftkv.raft.SnapshotMeta(300, 3)); // inside the log, another term
            assertEquals(1, s.segmentCount());
        }
        for (Path f : before) {
            if (!Files.exists(wal().resolve(f.getFileName()))) {
                Files.copy(saved.resolve(f.getFileName()), wal().resolve(f.getFileName()));
            }
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(301, s.firstIndex());
            assertEquals(300, s.lastIndex());
            assertEquals(3, s.term(300));
            assertEquals(new HardState(2, "n1", 399), s.hardState());
            s.save(null, run(301, 301, 3));
            assertEquals(run(301, 301, 3), all(s));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(run(301, 301, 3), all(s));
            assertEquals(1, s.segmentCount(), "the superseded segments were deleted at open");
        }
    }

    @Test
    void bitFlipInAMiddleRecordIsRefused() throws IOException {
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            for (int i = 1; i <= 5; i++) {
                s.save(new HardState(1, null, 0), run(i, i, 1));
            }
        }
        Path seg = segmentFiles().get(0);
        List<Long> recs = recordOffsets(seg);
        assertTrue(recs.size() >= 6, recs.toString());
        long middle = recs.get(3);
        flipBit(seg, middle + WalFormat.FRAME_BYTES + 2); // in the payload
        StorageException e = refusedNamingFileAndOffset(seg, middle);
        assertTrue(e.getMessage().contains("checksum"), e.getMessage());
        flipBit(seg, middle + WalFormat.FRAME_BYTES + 2); // repaired
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(5, s.lastIndex());
        }
        flipBit(seg, middle + 2); // in its length
        refusedNamingFileAndOffset(seg, middle);
    }

    @Test
    void bitFlipInASegmentHeaderIsRefused() throws IOException {
        fillSegments(3);
        List<Path> files = segmentFiles();
        for (Path seg : List.of(files.get(0), files.get(files.size() - 1))) {
            flipBit(seg, 20); // the first index
            refusedNamingFileAndOffset(seg, 40);
            flipBit(seg, 20);
        }
        flipBit(files.get(1), 3); // the magic
        refusedNamingFileAndOffset(files.get(1), 0);
    }

    @Test
    void bitFlipInTheLastRecordOfAnOlderSegmentIsRefused() throws IOException {
        fillSegments(3);
        Path older = segmentFiles().get(1);
        List<Long> recs = recordOffsets(older);
        long last = recs.get(recs.size() - 1);
        flipBit(older, last + WalFormat.FRAME_BYTES);
        StorageException e = refusedNamingFileAndOffset(older, last);
        assertTrue(e.getMessage().contains("not the newest"), e.getMessage());
    }

    @Test
    void dataAfterTheEndOfTheRecordsIsRefused() throws IOException {
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            s.save(null, run(1, 3, 1));
        }
        Path seg = segmentFiles().get(0);
        flipBit(seg, SMALL - 100); // in the preallocated zeros
        refusedNamingFileAndOffset(seg, SMALL - 100);
    }

    @Test
    void aMissingSegmentIsAGap() throws IOException {
        fillSegments(4);
        List<Path> files = segmentFiles();
        Files.delete(files.get(1));
        StorageException e = refusedNamingFileAndOffset(files.get(2), 16);
        assertTrue(e.getMessage().contains("gap"), e.getMessage());
    }

    // ------------------------------------------------------------------------------------------ segment creation

    @Test
    void crashBetweenSegmentCreationAndItsFirstSync() throws IOException {
        fillSegments(2);
        long last;
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            last = s.lastIndex();
        }
        List<Entry> expected;
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            expected = all(s);
        }
        byte[] validHeader = WalFormat.encodeHeader(new WalFormat.Header(last + 1, 1, 99));
        Path next = wal().resolve(WalFormat.fileName(last + 1));
        Path temp = wal().resolve(WalFormat.fileName(last + 1) + ".tmp");
        byte[][] leftovers = {new byte[0], new byte[(int) SMALL], Arrays.copyOf(Arrays.copyOf(validHeader, 10), (int) SMALL),
                Arrays.copyOf(validHeader, 30)};
        for (byte[] leftover : leftovers) {
            Files.write(next, leftover); // named, but its header never reached the disk (or only part of it)
            Files.write(temp, validHeader); // and a temporary file of a roll that never completed
            try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
                assertEquals(expected, all(s));
                assertFalse(Files.exists(next));
                assertFalse(Files.exists(temp));
                s.save(new HardState(7, "x", 0), List.of(data(7, last + 1, 3900))); // does not fit: rolls over it
            }
            try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
                assertEquals(last + 1, s.lastIndex());
                assertEquals(new HardState(7, "x", 0), s.hardState());
                assertEquals(expected, s.entries(1, last + 1, Long.MAX_VALUE));
            }
            Files.delete(next);
            // back to the layout before the roll
            try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
                assertEquals(expected, all(s));
            }
        }
        // an unsynced segment that is not the newest is damage, not a crash
        Files.write(next, new byte[(int) SMALL]);
        Files.write(wal().resolve(WalFormat.fileName(last + 500)), validHeader);
        refusedNamingFileAndOffset(next, 0);
    }

    // ------------------------------------------------------------------------------------------ rolling, compaction

    /** Writes until there are at least {@code n} segments; returns the entries written. */
    private List<Entry> fillSegments(int n) throws IOException {
        return fillSegments(n, true);
    }

    private List<Entry> fillSegments(int n, boolean commit) throws IOException {
        List<Entry> written = new ArrayList<>();
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            long i = s.lastIndex() + 1;
            while (s.segmentCount() < n) {
                Entry e = data(1 + i / 50, i, 200);
                s.save(new HardState(1 + i / 50, "n" + (i / 50), commit ? Math.max(0, i - 5) : 0), List.of(e));
                written.add(e);
                i++;
            }
        }
        return written;
    }

    @Test
    void smallSegmentsRollAndCompactionDeletesWholeSegments() throws IOException {
        List<Entry> model = new ArrayList<>();
        int maxSegments = 0;
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            for (int i = 1; i <= 3000; i++) {
                Entry e = data(1 + i / 500, i, 100);
                s.save(new HardState(1 + i / 500, null, i - 1), List.of(e));
                model.add(e);
                if (i % 100 == 0) {
                    s.compact(i - 60);
                    // 60 entries of ~120 bytes live: at most 3 segments of 4 KiB with the one being written
                    assertTrue(s.segmentCount() <= 4, "segments: " + s.segmentCount());
                    assertTrue(s.sizeOnDiskBytes() <= 4 * SMALL + 8192, "bytes: " + s.sizeOnDiskBytes());
                    assertEquals(segmentFiles().size(), s.segmentCount());
                }
                maxSegments = Math.max(maxSegments, s.segmentCount());
            }
            assertTrue(maxSegments >= 3, "rolled to " + maxSegments + " segments");
            assertEquals(model.subList(2940, 3000), all(s));
            assertEquals(model.get(2939).term(), s.term(2940));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(2941, s.firstIndex());
            assertEquals(model.get(2939).term(), s.term(2940));
            assertEquals(model.subList(2940, 3000), all(s));
            assertEquals(new HardState(7, null, 2999), s.hardState());
            assertThrows(IndexOutOfBoundsException.class, () -> s.term(2939));
        }
    }

    @Test
    void hardStateSurvivesTheDeletionOfTheSegmentThatHadIt() throws IOException {
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            s.save(new HardState(5, "n3", 0), List.of());
            for (int i = 1; i <= 200; i++) {
                s.save(null, List.of(data(5, i, 150)));
            }
            s.compact(190);
            assertFalse(Files.exists(wal().resolve(WalFormat.fileName(1))));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(new HardState(5, "n3", 0), s.hardState());
            assertEquals(191, s.firstIndex());
            assertEquals(5, s.term(190));
        }
    }

    @Test
    void termOfTheCompactedBoundaryAtASegmentEdge() throws IOException {
        long boundary;
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            int i = 1;
            while (s.segmentCount() < 3) {
                s.save(null, List.of(data(i, i, 300))); // term = index: every term differs
                i++;
            }
            List<Path> files = segmentFiles();
            boundary = WalFormat.parseFileName(files.get(1).getFileName().toString()) - 1; // last of the first
            s.compact(boundary);
            assertEquals(boundary, s.term(boundary));
            assertEquals(2, s.segmentCount());
            assertFalse(Files.exists(files.get(0)));
            s.compact(s.lastIndex()); // everything
            assertEquals(s.lastIndex(), s.term(s.lastIndex()));
            assertEquals(List.of(), s.entries(s.firstIndex(), s.firstIndex(), 100));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            long last = s.lastIndex();
            assertEquals(last + 1, s.firstIndex());
            assertEquals(last, s.term(last));
            assertTrue(s.segmentCount() <= 2);
            s.save(null, run(last + 1, last + 2, last + 1));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(2, all(s).size());
        }
    }

    @Test
    void truncationIntoAnOlderSegmentStartsANewOneAndDeletesTheSuperseded() throws IOException {
        List<Entry> written = fillSegments(4, false);
        Path crashData = dir.resolve("crash-data");
        List<Entry> expected = new ArrayList<>(written.subList(0, 9));
        expected.addAll(run(10, 12, 99));
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            LogStorageContractTest.copyDir(wal(), crashData.resolve(SegmentedLogStorage.DIR_NAME)); // before
            s.save(new HardState(99, "n9", 4), run(10, 12, 99));
            assertEquals(expected, all(s));
            assertEquals(2, s.segmentCount()); // the first, kept up to 9, and the new one from 10
        }
        List<Path> files = segmentFiles();
        assertEquals(List.of(WalFormat.fileName(1), WalFormat.fileName(10)),
                files.stream().map(p -> p.getFileName().toString()).toList());
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(expected, all(s));
            assertEquals(new HardState(99, "n9", 4), s.hardState());
        }
        // A crash after the new segment was renamed into place but before the superseded ones were deleted.
        Path crashWal = crashData.resolve(SegmentedLogStorage.DIR_NAME);
        Files.copy(files.get(1), crashWal.resolve(files.get(1).getFileName()));
        int before;
        try (Stream<Path> all = Files.list(crashWal)) {
            before = (int) all.count();
        }
        assertTrue(before >= 6, "lock, segment 1, the new one and at least 3 superseded: " + before);
        try (SegmentedLogStorage s = SegmentedLogStorage.open(crashData, SMALL)) {
            assertEquals(expected, all(s));
            assertEquals(new HardState(99, "n9", 4), s.hardState());
            assertEquals(2, s.segmentCount());
        }
        try (Stream<Path> left = Files.list(crashWal)) {
            assertEquals(3, left.count()); // the two segments and the lock file
        }
    }

    @Test
    void entriesLargerThanASegmentGetASegmentOfTheirOwn() throws IOException {
        List<Entry> big = List.of(data(1, 1, 10_000), data(1, 2, 50), data(1, 3, 9000));
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            s.save(null, big.subList(0, 1));
            s.save(null, big.subList(1, 2));
            s.save(null, big.subList(2, 3));
            assertEquals(big, all(s));
        }
        try (SegmentedLogStorage s = SegmentedLogStorage.open(dir, SMALL)) {
            assertEquals(big, all(s));
            assertEquals(3, s.segmentCount()); // the big ones fill theirs
            assertTrue(Files.size(segmentFiles().get(0)) > 10_000);
        }
    }

    @Test
    void aDataDirectoryWhoseWalIsAFileIsReported() throws IOException {
        Files.writeString(dir.resolve(SegmentedLogStorage.DIR_NAME), "x");
        StorageException e = assertThrows(StorageException.class, () -> SegmentedLogStorage.open(dir));
        assertTrue(e.getMessage().contains("not a directory"), e.getMessage());
    }
}
