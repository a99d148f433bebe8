package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.raftkv.snapshot.SnapshotTestSupport.b;
import static io.raftkv.snapshot.SnapshotTestSupport.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotStoreTest {

    @TempDir
    Path dir;

    static List<KvEntry> entries(int n, long index) {
        List<KvEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new KvEntry(String.format("key%05d", i), b("value " + i + " at " + index), index, 1));
        }
        return out;
    }

    /** A leader's snapshot (in its own data directory) to send. */
    SnapshotInfo leaderSnapshot(SnapshotMeta meta, int keys) {
        return SnapshotFileTest.write(SnapshotStore.open(dir.resolve("leader-" + meta.index())), meta,
                entries(keys, meta.index()));
    }

    static void send(OutgoingSnapshot out, SnapshotReceiver in, long from, int chunk) {
        for (long off = from; off < out.size(); off += chunk) {
            in.accept(off, out.read(off, chunk));
        }
    }

    @Test
    void chunksInOrderThenFinish() throws IOException {
        SnapshotInfo sent = leaderSnapshot(new SnapshotMeta(50, 3), 2000);
        SnapshotStore follower = SnapshotStore.open(dir.resolve("follower"));
        try (OutgoingSnapshot out = SnapshotStore.open(dir.resolve("leader-50")).openForSending(sent)) {
            assertEquals(sent.sizeBytes(), out.size());
            SnapshotReceiver in = follower.beginReceive(out.meta(), out.size());
            send(out, in, 0, 7_777);
            assertEquals(out.size(), in.receivedBytes());
            SnapshotInfo got = in.finish();
            assertEquals(new SnapshotMeta(50, 3), got.meta());
            assertEquals(got, follower.latest().orElseThrow());
            assertArrayEquals(Files.readAllBytes(sent.file()), Files.readAllBytes(got.file()));
            assertEquals(0, out.read(out.size(), 10).length);
            try (InputStream s = out.inputStream()) {
                assertArrayEquals(Files.readAllBytes(sent.file()), s.readAllBytes());
            }
        }
        assertEquals(1, follower.directory().toFile().list().length);
    }

    @Test
    void gapAndOverlapAreRejectedAndTheTransferResumes() {
        SnapshotInfo sent = leaderSnapshot(new SnapshotMeta(20, 2), 500);
        SnapshotStore follower = SnapshotStore.open(dir.resolve("follower"));
        try (OutgoingSnapshot out = SnapshotStore.open(dir.resolve("leader-20")).openForSending(sent)) {
            SnapshotReceiver in = follower.beginReceive(out.meta(), out.size());
            in.accept(0, out.read(0, 1000));
            OutOfOrderChunkException gap = assertThrows(OutOfOrderChunkException.class,
                    () -> in.accept(2000, out.read(2000, 1000)));
            assertEquals(1000, gap.expectedOffset());
            assertTrue(gap.getMessage().contains("a gap"), gap.getMessage());
            OutOfOrderChunkException overlap = assertThrows(OutOfOrderChunkException.class,
                    () -> in.accept(500, out.read(500, 1000)));
            assertTrue(overlap.getMessage().contains("an overlap"), overlap.getMessage());
            assertThrows(IllegalArgumentException.class, () -> in.accept(1000, new byte[(int) out.size()]));
            assertThrows(IllegalStateException.class, in::finish); // incomplete, still resumable
            // the leader asks again (same snapshot): the same transfer resumes where it stopped
            SnapshotReceiver resumed = follower.beginReceive(out.meta(), out.size());
            assertSame(in, resumed);
            send(out, resumed, resumed.receivedBytes(), 333);
            assertEquals(read(sent.file()), read(resumed.finish().file()));
        }
    }

    @Test
    void badChecksumIsRefusedAndNothingReplaced() throws IOException {
        SnapshotStore follower = SnapshotStore.open(dir.resolve("follower"));
        SnapshotInfo existing = SnapshotFileTest.write(follower, new SnapshotMeta(10, 1), entries(3, 10));
        SnapshotInfo sent = leaderSnapshot(new SnapshotMeta(30, 2), 100);
        byte[] bytes = Files.readAllBytes(sent.file());
        bytes[bytes.length / 2] ^= 0x10;
        SnapshotReceiver in = follower.beginReceive(sent.meta(), bytes.length);
        in.accept(0, bytes);
        SnapshotCorruptException e = assertThrows(SnapshotCorruptException.class, in::finish);
        assertTrue(e.getMessage().contains("offset"), e.getMessage());
        assertFalse(in.isActive());
        assertEquals(List.of(existing), follower.list());
        assertEquals(1, follower.directory().toFile().list().length); // partial file deleted

        // a snapshot whose header names another point than announced is refused too
        byte[] good = Files.readAllBytes(sent.file());
        SnapshotReceiver liar = follower.beginReceive(new SnapshotMeta(31, 2), good.length);
        liar.accept(0, good);
        assertTrue(assertThrows(SnapshotCorruptException.class, liar::finish).getMessage()
                .contains("expected 31@2"));
        assertEquals(List.of(existing), follower.list());
    }

    @Test
    void anotherSnapshotAbortsTheTransferInProgress() throws IOException {
        SnapshotStore follower = SnapshotStore.open(dir.resolve("follower"));
        SnapshotReceiver first = follower.beginReceive(new SnapshotMeta(5, 1), 1000);
        first.accept(0, new byte[10]);
        SnapshotReceiver second = follower.beginReceive(new SnapshotMeta(8, 2), 1000);
        assertFalse(first.isActive());
        assertThrows(IllegalStateException.class, () -> first.accept(10, new byte[1]));
        assertEquals(second, follower.receiving().orElseThrow());
        second.abort();
        assertTrue(follower.receiving().isEmpty());
        assertEquals(0, follower.directory().toFile().list().length);
    }

    @Test
    void keepsTheNewestTwoAndCleansTemporaryFilesAtOpen() throws IOException {
        SnapshotStore store = SnapshotStore.open(dir);
        for (long i = 1; i <= 4; i++) {
            SnapshotFileTest.write(store, new SnapshotMeta(i * 10, i), entries(5, i * 10));
        }
        assertEquals(List.of(new SnapshotMeta(40, 4), new SnapshotMeta(30, 3)),
                store.list().stream().map(SnapshotInfo::meta).toList());
        // a sender holding an older file open keeps reading it after it is deleted
        OutgoingSnapshot out = store.openForSending(store.list().get(1));
        SnapshotFileTest.write(store, new SnapshotMeta(50, 5), entries(5, 50));
        assertEquals(List.of(new SnapshotMeta(50, 5), new SnapshotMeta(40, 4)),
                store.list().stream().map(SnapshotInfo::meta).toList());
        byte[] all = out.read(0, (int) out.size());
        out.close();
        Path copy = dir.resolve("copy.snap");
        Files.write(copy, all);
        assertEquals(entries(5, 30), read(copy));

        Files.write(store.directory().resolve("snap-00000000000000000060-6.snap.123-1.tmp"), new byte[100]);
        SnapshotReceiver partial = store.beginReceive(new SnapshotMeta(70, 7), 500);
        partial.accept(0, new byte[100]);
        SnapshotStore reopened = SnapshotStore.open(dir);
        assertEquals(2, reopened.directory().toFile().list().length);
        assertEquals(new SnapshotMeta(50, 5), reopened.latest().orElseThrow().meta());
        assertTrue(Arrays.stream(reopened.directory().toFile().list()).noneMatch(n -> n.endsWith(".tmp")));
    }
}
