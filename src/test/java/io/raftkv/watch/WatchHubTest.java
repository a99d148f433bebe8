package io.raftkv.watch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.MemoryLogStorage;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvStateMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The hub fed by a real state machine: which entries make events, the ring and the log replay, limits and resets. */
class WatchHubTest {

    @TempDir
    Path dir;

    private final MemoryLogStorage log = new MemoryLogStorage();
    private KvStateMachine sm;
    private WatchHub hub;
    private WatchingStateMachine watched;
    private long index;

    private void open(WatchSettings settings) {
        sm = KvStateMachine.open(dir);
        hub = new WatchHub(settings, () -> log);
        watched = new WatchingStateMachine(sm, hub);
    }

    @AfterEach
    void close() {
        if (sm != null) {
            sm.close();
        }
    }

    /** Appends a command to the log and applies it (as a node does once it is committed). */
    private long apply(KvCommand cmd) {
        Entry e = new Entry(1, ++index, EntryType.COMMAND, cmd.encode());
        log.save(null, List.of(e));
        watched.apply(List.of(e));
        return e.index();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> drain(Watcher w) {
        List<String> out = new ArrayList<>();
        WatchEvent e;
        while ((e = w.next()) != null) {
            out.add(e.type() + " " + e.key() + " @" + e.index() + (e.value() == null ? "" : " " + new String(e.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Test
    void onlyWritesThatTookEffectMakeEvents() {
        open(WatchSettings.DEFAULTS);
        Watcher w = hub.watch("", 0);
        long a = apply(KvCommand.put("a", b("1")));
        apply(KvCommand.put("a", b("x"), KvCommand.Condition.version(99)));      // condition fails
        apply(KvCommand.delete("nothing"));                                        // absent: nothing deleted
        long s = apply(KvCommand.put("s", b("once")).withClient("c1", 1));
        apply(KvCommand.put("s", b("once")).withClient("c1", 1));                // a duplicate: not applied again
        long d = apply(KvCommand.delete("a", KvCommand.Condition.value(b("1"))));
        log.save(null, List.of(Entry.noop(1, ++index)));
        watched.apply(List.of(new Entry(1, index, EntryType.NOOP, new byte[0])));
        assertEquals(List.of("put a @" + a + " 1", "put s @" + s + " once", "delete a @" + d), drain(w));
        // The same from the log: a watcher from index 1 of a hub whose ring is too small to hold them.
        assertEquals(List.of("put a @" + a + " 1", "put s @" + s + " once", "delete a @" + d), drain(hub.watch("", 1)));
    }

    @Test
    void oldHistoryIsReplayedFromTheLogThenTheRingThenLive() {
        open(new WatchSettings(3, 1 << 20, 100, 10));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            long at = apply(KvCommand.put("k" + i, b("v" + i)));
            if (i % 3 == 0) {
                apply(KvCommand.put("k" + i, b("no"), KvCommand.Condition.absent())); // fails: no event, from the log too
            }
            expected.add("put k" + i + " @" + at + " v" + i);
        }
        Watcher w = hub.watch("k", 1);
        long live = apply(KvCommand.put("k-live", b("now")));
        expected.add("put k-live @" + live + " now");
        assertEquals(expected, drain(w));
        assertTrue(w.progress() >= live);
    }

    @Test
    void aPrefixSelectsKeysAndAStartIndexSkipsOlderOnes() {
        open(WatchSettings.DEFAULTS);
        apply(KvCommand.put("app/a", b("1")));
        long second = apply(KvCommand.put("app/b", b("2")));
        apply(KvCommand.put("other", b("3")));
        assertEquals(List.of("put app/b @" + second + " 2"), drain(hub.watch("app/", second)));
    }

    @Test
    void compactedHistoryIsGoneWithWhereToStart() {
        open(new WatchSettings(2, 1 << 20, 100, 10));
        for (int i = 0; i < 6; i++) {
            apply(KvCommand.put("k" + i, b("v")));
        }
        log.compact(4);
        WatchGoneException gone = assertThrows(WatchGoneException.class, () -> hub.watch("", 2));
        assertEquals(5, gone.firstIndex());
        assertEquals(6, gone.currentIndex());
        assertEquals(2, drain(hub.watch("", 5)).size());
    }

    @Test
    void historyStartsAfterWhatTheStateMachineHadAppliedAtOpen() {
        open(WatchSettings.DEFAULTS);
        apply(KvCommand.put("a", b("1")));
        sm.close();
        sm = KvStateMachine.open(dir);
        hub = new WatchHub(WatchSettings.DEFAULTS, () -> log); // a restarted process: outcomes before it are unknown
        watched = new WatchingStateMachine(sm, hub);
        assertThrows(WatchGoneException.class, () -> hub.watch("", 1));
        long b = apply(KvCommand.put("b", b("2")));
        assertEquals(List.of("put b @" + b + " 2"), drain(hub.watch("", b)));
    }

    @Test
    void aSlowWatcherIsCutOffWithoutHoldingUpApplies() {
        open(new WatchSettings(100, 1 << 20, 4, 10));
        Watcher slow = hub.watch("", 0);
        Watcher fast = hub.watch("", 0);
        long started = System.nanoTime();
        for (int i = 0; i < 10; i++) {
            apply(KvCommand.put("k" + i, b("v")));
            drain(fast);
        }
        assertTrue(System.nanoTime() - started < 5_000_000_000L);
        Watcher.End end = slow.ended();
        assertNotNull(end, "the watcher that read nothing was cut off");
        assertEquals(WatchHub.EndReason.SLOW, end.reason());
        assertEquals(1, end.resumeFrom());
        assertNull(fast.ended());
        assertEquals(1, hub.watchers(), "the slow one is no longer fed");
    }

    @Test
    void aSnapshotInstallEndsWatchersAsGone() {
        open(WatchSettings.DEFAULTS);
        apply(KvCommand.put("a", b("1")));
        Watcher w = hub.watch("", 0);
        hub.reset(50);
        assertEquals(WatchHub.EndReason.GONE, w.ended().reason());
        assertThrows(WatchGoneException.class, () -> hub.watch("", 10));
        assertEquals(51, hub.firstIndex());
    }

    @Test
    void theNumberOfWatchersIsBounded() {
        open(new WatchSettings(10, 1 << 20, 4, 2));
        hub.watch("", 0);
        Watcher second = hub.watch("", 0);
        assertThrows(IllegalStateException.class, () -> hub.watch("", 0));
        second.close();
        hub.watch("", 0);
    }
}
