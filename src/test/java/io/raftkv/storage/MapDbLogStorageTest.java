package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** MapDB-specific behaviour of {@link MapDbLogStorage}; the store contract is in {@link MapDbLogStorageContractTest}. */
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

    @Test
    void keepsTheLogInOneFile() {
        try (MapDbLogStorage s = MapDbLogStorage.open(dir)) {
            s.save(new HardState(1, "a", 0), run(1, 2, 1));
            assertTrue(Files.isRegularFile(dir.resolve(MapDbLogStorage.FILE_NAME)));
            assertEquals(dir.resolve(MapDbLogStorage.FILE_NAME).toAbsolutePath(), s.file());
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
    void logFileThatIsADirectoryIsReported() throws IOException {
        Files.createDirectories(dir.resolve(MapDbLogStorage.FILE_NAME));
        StorageException e = assertThrows(StorageException.class, () -> MapDbLogStorage.open(dir));
        assertTrue(e.getMessage().contains("not a regular file"), e.getMessage());
    }
}
