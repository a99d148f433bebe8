package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.watch.WatchEvent;
import io.raftkv.watch.Watcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A watch across a leader change: a watcher on the leader sees writes (some conditional and failing, some retried
 * duplicates, some deletes) until the leader stops; it resumes on another member after the last index it saw, and
 * the two parts together are exactly the changes the committed log made, in order: nothing missed, nothing twice.
 */
class WatchFailoverTest {

    @TempDir
    Path dir;

    @Test
    void aWatcherResumedOnAnotherMemberAfterALeaderChangeMissesNothingAndSeesNothingTwice() throws Exception {
        try (InProcessCluster c = new InProcessCluster(dir.resolve("cluster"), 3, 4096)) {
            c.watching();
            c.startAll();
            String first = c.awaitLeader();
            Watcher onLeader = c.hub(first).watch("k/", 1);
            List<WatchEvent> seen = new ArrayList<>();
            AtomicBoolean go = new AtomicBoolean(true);
            Thread writer = new Thread(() -> write(c, go), "writer");
            writer.start();
            InProcessCluster.await("40 events on the first leader", () -> {
                collect(onLeader, seen);
                return seen.size() >= 40;
            });
            c.stop(first); // graceful: hands leadership to another member mid-stream
            collect(onLeader, seen);
            long lastSeen = seen.get(seen.size() - 1).index();
            String next = c.awaitLeader();
            assertNotEquals(first, next);
            String other = c.nodes.keySet().stream().filter(id -> !id.equals(next)).findFirst().orElseThrow();
            Watcher resumed = c.hub(other).watch("k/", lastSeen + 1); // a follower serves it from its own state
            InProcessCluster.await("writes under the new leader", () -> {
                collect(resumed, seen);
                return seen.size() >= 120;
            });
            go.set(false);
            writer.join(10_000);
            // Everything committed is applied on `other` once the new leader's own barrier write is.
            c.nodes.get(next).propose(KvCommand.put("barrier", new byte[0]).encode()).get(5, TimeUnit.SECONDS);
            InProcessCluster.await("the barrier on " + other, () -> c.store(other).get("barrier").isPresent());
            collect(resumed, seen);

            List<String> expected = oracle(c.log(other).all(), c.store(other).lastApplied());
            List<String> got = new ArrayList<>();
            for (WatchEvent e : seen) {
                got.add(describe(e.index(), e.put(), e.key()));
            }
            assertEquals(expected, got);
            assertTrue(got.size() >= 120, got.size() + " events");
            System.out.println("watch across a leader change: " + got.size() + " events, resumed on " + other
                    + " after index " + lastSeen);
        }
    }

    private static void collect(Watcher w, List<WatchEvent> into) {
        WatchEvent e;
        while ((e = w.next()) != null) {
            into.add(e);
        }
    }

    /** Puts, failing conditional puts, deletes and duplicated session writes, on whoever leads, until told to stop. */
    private static void write(InProcessCluster c, AtomicBoolean go) {
        for (int i = 0; go.get(); i++) {
            String leader = c.leader();
            RaftNode n = leader == null ? null : c.nodes.get(leader);
            if (n == null) {
                Thread.onSpinWait();
                continue;
            }
            String key = "k/" + (i % 7);
            KvCommand cmd = switch (i % 5) {
                case 1 -> KvCommand.put(key, bytes("cas" + i), KvCommand.Condition.version(12345)); // fails
                case 2 -> KvCommand.delete(key);
                case 3 -> KvCommand.put(key, bytes("s" + i)).withClient("w", i);
                default -> KvCommand.put(key, bytes("v" + i));
            };
            try {
                n.propose(cmd.encode()).get(2, TimeUnit.SECONDS);
                if (i % 5 == 3) {
                    n.propose(cmd.encode()).get(2, TimeUnit.SECONDS); // the same session write again: a duplicate
                }
            } catch (Exception e) {
                // not leader any more, or the outcome is unknown: the oracle reads what the log holds
            }
        }
    }

    /** The changes the committed log makes, applied afresh to an empty store: the events a watcher must see. */
    private List<String> oracle(List<Entry> log, long through) {
        List<String> out = new ArrayList<>();
        try (KvStateMachine fresh = KvStateMachine.open(dir.resolve("oracle"))) {
            List<Entry> committed = log.stream().filter(e -> e.index() <= through).toList();
            for (ApplyResult r : fresh.apply(committed)) {
                Entry e = committed.get((int) (r.index() - committed.get(0).index()));
                if (e.type() != EntryType.COMMAND || !r.ok() || r.duplicate()) {
                    continue;
                }
                KvCommand cmd = KvCommand.decode(e.data());
                boolean put = cmd.op() == KvCommand.Op.PUT;
                if (cmd.key().startsWith("k/") && (put || r.deleted())) {
                    out.add(describe(e.index(), put, cmd.key()));
                }
            }
        }
        return out;
    }

    private static String describe(long index, boolean put, String key) {
        return index + (put ? " put " : " delete ") + key;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
