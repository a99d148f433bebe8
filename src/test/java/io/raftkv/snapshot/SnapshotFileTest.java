package io.raftkv.snapshot;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.raftkv.snapshot.SnapshotTestSupport.b;
import static io.raftkv.snapshot.SnapshotTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotFileTest {

    @TempDir
    Path dir;

    static List<KvEntry> sample() {
        List<KvEntry> out = new ArrayList<>();
        out.add(new KvEntry("", b("empty key"), 1, 1));
        out.add(new KvEntry("a", new byte[0], 5, 2));
        out.add(new KvEntry("b/\u65e5\u672c", b("unicode"), 7, 7));
        out.add(new KvEntry("c", new byte[300_000], 9, 3)); // larger than the I/O buffer
        out.add(new KvEntry("\uD83C\uDF89", b("party"), 10, 10));
        return out;
    }

    static SnapshotInfo write(SnapshotStore store, SnapshotMeta meta, List<KvEntry> entries) {
        try (SnapshotFileWriter w = store.create(meta, b("config-bytes"), entries.size())) {
            entries.forEach(w::append);
            return w.finish();
        }
    }

    @Test
    void roundTrip() {
        SnapshotStore store = SnapshotStore.open(dir);
        SnapshotInfo info = write(store, new SnapshotMeta(10, 4), sample());
        assertEquals(dir.resolve("snapshots/snap-00000000000000000010-4.snap").toAbsolutePath(), info.file());
        assertEquals(sample(), read(info.file()));
        SnapshotHeader h = store.readHeader(info);
        assertEquals(new SnapshotMeta(10, 4), h.meta());
        assertArrayEquals(b("config-bytes"), h.configuration());
        assertEquals(5, h.keyCount());
        assertEquals(info.sizeBytes(), Files.exists(info.file()) ? info.file().toFile().length() : -1);
        assertEquals(h, store.verify(info));
    }

    @Test
    void theHeaderCarriesTheRaftConfigurationAndVersionOneFilesStillRead() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        Configuration c = new Configuration(List.of("n3", "n1", "n2"), List.of("n4"));
        SnapshotInfo info;
        try (SnapshotFileWriter w = store.create(new SnapshotMeta(10, 4, c), c.encode(), 1)) {
            w.append(new KvEntry("k", b("v"), 3, 3));
            info = w.finish();
        }
        SnapshotHeader h = store.readHeader(info);
        assertEquals(SnapshotFormat.VERSION, h.formatVersion());
        assertEquals(c, h.raftConfiguration());
        assertEquals(c, h.metaWithConfiguration().configuration());

        // The same file as version 1 wrote it: no sessions field (the empty one is a single 0 byte after the
        // configuration), and its configuration bytes meant nothing.
        byte[] v3 = Files.readAllBytes(info.file());
        int sessionsAt = 4 + 1 + 8 + 8 + 1 + c.encode().length;
        assertEquals(0, v3[sessionsAt], "an empty sessions field");
        byte[] bytes = new byte[v3.length - 1];
        System.arraycopy(v3, 0, bytes, 0, sessionsAt);
        System.arraycopy(v3, sessionsAt + 1, bytes, sessionsAt, v3.length - sessionsAt - 1);
        bytes[4] = 1;
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        ByteBuffer.wrap(bytes, bytes.length - 4, 4).putInt((int) crc.getValue());
        Files.write(info.file(), bytes);
        SnapshotHeader old = store.verify(info);
        assertEquals(1, old.formatVersion());
        assertNull(old.raftConfiguration());
        assertEquals(List.of(new KvEntry("k", b("v"), 3, 3)), read(info.file()));

        bytes[4] = 4; // a future version is refused
        Files.write(info.file(), bytes);
        assertThrows(SnapshotCorruptException.class, () -> store.verify(info));
    }

    @Test
    void writerRefusesWhatTheFormatCannotHold() {
        SnapshotStore store = SnapshotStore.open(dir);
        try (SnapshotFileWriter w = store.create(new SnapshotMeta(5, 1), new byte[0], 2)) {
            w.append(new KvEntry("b", b("1"), 1, 1));
            assertThrows(IllegalArgumentException.class, () -> w.append(new KvEntry("a", b("1"), 1, 1)));
            assertThrows(IllegalArgumentException.class, () -> w.append(new KvEntry("c", b("1"), 6, 1)));
            IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(e.getMessage().contains("announced 2 keys but 1"), e.getMessage());
        }
        assertEquals(List.of(), store.list());
        assertEquals(0, dir.resolve("snapshots").toFile().list().length);
    }

    /** Every proper prefix of a file is refused, with the file and an offset in the message. */
    @Test
    void truncatedAtEveryOffsetIsRefused() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        List<KvEntry> small = List.of(new KvEntry("a", b("xy"), 1, 1), new KvEntry("bb", b("z"), 3, 2));
        byte[] full = Files.readAllBytes(write(store, new SnapshotMeta(3, 1), small).file());
        Path cut = dir.resolve("cut.snap");
        for (int len = 0; len < full.length; len++) {
            Files.write(cut, java.util.Arrays.copyOf(full, len));
            SnapshotCorruptException e = assertThrows(SnapshotCorruptException.class, () -> read(cut), "length " + len);
            assertTrue(e.getMessage().contains(cut.toAbsolutePath().toString()), e.getMessage());
            assertTrue(e.getMessage().contains("at offset " + e.offset()), e.getMessage());
            assertTrue(e.offset() <= len, len + ": " + e.getMessage());
        }
        Files.write(cut, full);
        assertEquals(small, read(cut));
        // a byte too many is refused too
        byte[] longer = java.util.Arrays.copyOf(full, full.length + 1);
        Files.write(cut, longer);
        assertThrows(SnapshotCorruptException.class, () -> read(cut));
    }

    /** Every single-bit flip anywhere in a file is refused (CRC32C catches what parsing does not). */
    @Test
    void everyBitFlipIsRefused() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        List<KvEntry> small = List.of(new KvEntry("a", b("xy"), 1, 1), new KvEntry("bb", b("z"), 3, 2));
        byte[] full = Files.readAllBytes(write(store, new SnapshotMeta(3, 1), small).file());
        Path bad = dir.resolve("bad.snap");
        for (int i = 0; i < full.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] copy = full.clone();
                copy[i] ^= (byte) (1 << bit);
                Files.write(bad, copy);
                SnapshotCorruptException e = assertThrows(SnapshotCorruptException.class, () -> read(bad),
                        "byte " + i + " bit " + bit);
                assertTrue(e.getMessage().contains(bad.toAbsolutePath().toString()), e.getMessage());
                assertTrue(e.getMessage().contains("offset"), e.getMessage());
            }
        }
    }

    @Test
    void headerThatDoesNotMatchTheNameIsRefused() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        SnapshotInfo info = write(store, new SnapshotMeta(3, 1), List.of());
        Path renamed = info.file().resolveSibling(SnapshotFormat.fileName(new SnapshotMeta(9, 2)));
        Files.move(info.file(), renamed);
        SnapshotInfo lying = store.latest().orElseThrow();
        assertEquals(new SnapshotMeta(9, 2), lying.meta());
        SnapshotCorruptException e = assertThrows(SnapshotCorruptException.class, () -> store.verify(lying));
        assertTrue(e.getMessage().contains("header says 3@1, expected 9@2"), e.getMessage());
        Files.writeString(dir.resolve("junk"), "not a snapshot");
        assertTrue(assertThrows(SnapshotCorruptException.class, () -> read(dir.resolve("junk")))
                .getMessage().contains("not a raftkv snapshot"));
    }

    @Test
    void fileNames() {
        assertEquals("snap-00000000000000000042-7.snap", SnapshotFormat.fileName(new SnapshotMeta(42, 7)));
        assertEquals(new SnapshotMeta(42, 7), SnapshotFormat.parseFileName("snap-00000000000000000042-7.snap")
                .orElseThrow());
        assertTrue(SnapshotFormat.parseFileName("snap-42-7.snap").isEmpty());
        assertTrue(SnapshotFormat.parseFileName("snap-00000000000000000042-7.snap.tmp").isEmpty());
        assertTrue(SnapshotFormat.parseFileName("snap-00000000000000000000-0.snap").isEmpty());
    }
}
