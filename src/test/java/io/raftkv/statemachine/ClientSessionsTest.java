package io.raftkv.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.snapshot.KvSnapshotter;
import io.raftkv.snapshot.SnapshotFileReader;
import io.raftkv.snapshot.SnapshotInfo;
import io.raftkv.snapshot.SnapshotStore;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Exactly-once writes through client sessions: in the state machine, across restarts and through snapshots. */
class ClientSessionsTest {

    @TempDir
    Path dir;

    static Entry put(long index, String key, String value, String client, long seq) {
        KvCommand c = KvCommand.put(key, value.getBytes(StandardCharsets.UTF_8));
        return new Entry(1, index, EntryType.COMMAND, (client == null ? c : c.withClient(client, seq)).encode());
    }

    static String value(KvStateMachine sm, String key) {
        return sm.get(key).map(e -> new String(e.value(), StandardCharsets.UTF_8)).orElse(null);
    }

    @Test
    void aRetriedWriteIsNotAppliedAgainAndGetsTheFirstResult() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            ApplyResult first = sm.apply(List.of(put(1, "k", "a", "c1", 1))).get(0);
            sm.apply(List.of(put(2, "k", "b", null, 0)));
            ApplyResult retry = sm.apply(List.of(put(3, "k", "a", "c1", 1))).get(0);
            assertEquals("b", value(sm, "k"), "the retry did not overwrite the later write");
            assertTrue(retry.duplicate());
            assertEquals(3, retry.index(), "the result belongs to the retry's entry...");
            assertEquals(1, retry.originalIndex(), "... and repeats the first attempt's");
            assertEquals(first.version(), retry.version());
            assertEquals(ApplyResult.Kind.OK, retry.kind());
            assertFalse(first.duplicate());
            // a new sequence applies
            assertFalse(sm.apply(List.of(put(4, "k", "c", "c1", 2))).get(0).duplicate());
            assertEquals("c", value(sm, "k"));
        }
    }

    @Test
    void expiredSessionsAndTooOldSequencesAreRefusedWithoutEffect() {
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            assertTrue(sm.apply(List.of(put(1, "k", "x", "unknown", 5))).get(0).expired(), "sequence > 1 of an unknown id");
            assertNull(value(sm, "k"));
            long index = 2;
            for (long seq = 1; seq <= ClientSessions.WINDOW + 3; seq++) {
                sm.apply(List.of(put(index++, "k" + seq, "v", "c", seq)));
            }
            // the oldest three results were let go: their retries cannot be told apart from new writes
            ApplyResult old = sm.apply(List.of(put(index++, "k1", "again", "c", 1))).get(0);
            assertTrue(old.expired());
            assertEquals("v", value(sm, "k1"));
            ApplyResult kept = sm.apply(List.of(put(index++, "k4", "again", "c", 4))).get(0);
            assertTrue(kept.duplicate());
            assertEquals("v", value(sm, "k4"));
            // out of order within the window: a gap below the newest that was never applied is applied
            sm.apply(List.of(put(index++, "far", "v", "c", 40)));
            assertFalse(sm.apply(List.of(put(index++, "gap", "v", "c", 30))).get(0).duplicate());
            assertEquals("v", value(sm, "gap"));
        }
    }

    @Test
    void sessionsSurviveARestartAndAReplayOfTheLog() {
        List<Entry> log = new ArrayList<>();
        log.add(put(1, "k", "a", "c1", 1));
        log.add(put(2, "k", "b", null, 0));
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            sm.apply(log.subList(0, 1));
            sm.flush();
            sm.apply(log.subList(1, 2)); // applied, not flushed: a crash loses it and the log replays it
            sm.closeWithoutFlush();
        }
        log.add(put(3, "k", "a", "c1", 1));
        try (KvStateMachine sm = KvStateMachine.open(dir)) {
            assertEquals(1, sm.lastApplied());
            assertEquals(1, sm.sessionCount());
            List<ApplyResult> r = sm.apply(log);
            assertTrue(r.get(1).duplicate(), "the retry after the restart is recognized");
            assertEquals("b", value(sm, "k"));
        }
    }

    @Test
    void aSnapshotCarriesTheSessions() {
        Path leader = dir.resolve("leader");
        Path follower = dir.resolve("follower");
        SnapshotInfo info;
        try (KvStateMachine sm = KvStateMachine.open(leader)) {
            sm.apply(List.of(put(1, "k", "a", "c1", 1), put(2, "k", "b", null, 0)));
            info = KvSnapshotter.start(sm, SnapshotStore.open(leader), new SnapshotMeta(2, 1), new byte[0]).await();
            sm.apply(List.of(put(3, "late", "x", "c2", 1))); // after the snapshot point: not in it
        }
        try (KvStateMachine sm = KvStateMachine.open(follower);
             SnapshotFileReader source = SnapshotStore.open(leader).openReader(info)) {
            sm.install(source);
            assertEquals(1, sm.sessionCount());
            ApplyResult retry = sm.apply(List.of(put(3, "k", "a", "c1", 1))).get(0);
            assertTrue(retry.duplicate());
            assertEquals("b", value(sm, "k"));
        }
    }

    @Test
    void expiryAndEvictionFollowTheLogAlone() {
        ClientSessions s = new ClientSessions();
        s.record("old", 1, 1, ApplyResult.put(1, 1, null));
        s.record("young", 1, ClientSessions.EXPIRY_ENTRIES, ApplyResult.put(ClientSessions.EXPIRY_ENTRIES, 1, null));
        long sweep = ClientSessions.SWEEP_EVERY * (ClientSessions.EXPIRY_ENTRIES / ClientSessions.SWEEP_EVERY + 1);
        assertEquals(List.of(), s.expire(sweep - 1), "only at sweep points");
        assertEquals(List.of("old"), s.expire(sweep));
        assertEquals(ClientSessions.Verdict.EXPIRED, s.check("old", 2));
        assertEquals(ClientSessions.Verdict.DUPLICATE, s.check("young", 1));
        ClientSessions full = new ClientSessions();
        for (int i = 0; i < ClientSessions.MAX_SESSIONS; i++) {
            full.record("c" + i, 1, i + 1, ApplyResult.put(i + 1, 1, null));
        }
        full.record("c0", 2, ClientSessions.MAX_SESSIONS + 1, ApplyResult.put(ClientSessions.MAX_SESSIONS + 1, 1, null));
        assertEquals(List.of("c1"), full.record("new", 1, ClientSessions.MAX_SESSIONS + 2,
                ApplyResult.put(ClientSessions.MAX_SESSIONS + 2, 1, null)), "the least recently active goes");
        assertEquals(ClientSessions.MAX_SESSIONS, full.size());
        ClientSessions copy = ClientSessions.decodeAll(full.encodeAll());
        assertEquals(full.ids(), copy.ids(), "a snapshot keeps the order that decides the next eviction");
    }
}
