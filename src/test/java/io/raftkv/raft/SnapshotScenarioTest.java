package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/**
 * Scripted snapshot scenarios (paper section 7) on the simulated cluster, under the same safety checker as the
 * randomized runs: a follower behind the leader's compacted log catches up by InstallSnapshot, a lost transfer is
 * retried, a restarted node comes back from its snapshot, and the core refuses a snapshot that is not an applied point.
 */
class SnapshotScenarioTest {

    private static Simulation cluster() {
        SimOptions o = new SimOptions().seed(11).nodes(3);
        o.compactionMargin = 0;
        return new Simulation(o).start();
    }

    private static String electLeader(Simulation sim) {
        sim.runUntil(() -> sim.stableLeader() != null, 200, "a leader everyone follows");
        return sim.stableLeader();
    }

    private static String follower(Simulation sim, String leader) {
        return sim.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    }

    private static void write(Simulation sim, String leader, int n, String prefix) {
        for (int i = 0; i < n; i++) {
            assertNotNull(sim.propose(leader, "k" + (i % 5), prefix + i));
            sim.deliverAll();
        }
    }

    @Test
    void aFollowerBehindTheCompactedLogCatchesUpBySnapshot() {
        Simulation sim = cluster();
        String leader = electLeader(sim);
        String lagging = follower(sim, leader);
        List<Message> snapshots = new ArrayList<>();
        sim.onDeliver = m -> {
            if (m.type() == MessageType.SNAPSHOT) {
                snapshots.add(m);
            }
        };
        sim.isolate(lagging);
        write(sim, leader, 30, "a");
        sim.runTicks(3);
        sim.snapshot(leader);
        long snapIndex = sim.raft(leader).snapshot().index();
        assertTrue(sim.node(leader).raft().status().firstIndex() > 1, "the leader compacted its log");
        assertTrue(snapIndex > sim.node(lagging).applied(), "the lagging follower is behind the snapshot");

        sim.heal();
        sim.runUntil(() -> sim.node(lagging).applied() >= snapIndex, 100, lagging + " catching up");
        assertEquals(1, snapshots.size(), "one InstallSnapshot: " + snapshots);
        assertEquals(snapIndex, snapshots.get(0).index());
        assertEquals(sim.node(leader).kv(), sim.node(lagging).kv());
        assertEquals(snapIndex + 1, sim.raft(lagging).status().firstIndex(), "the follower's log starts after the snapshot");

        // It replicates normally afterwards.
        write(sim, leader, 3, "b");
        sim.runTicks(3);
        assertEquals(sim.node(leader).applied(), sim.node(lagging).applied());
        assertEquals(sim.node(leader).kv(), sim.node(lagging).kv());
    }

    @Test
    void aLostSnapshotTransferIsRetried() {
        Simulation sim = cluster();
        String leader = electLeader(sim);
        String lagging = follower(sim, leader);
        sim.isolate(lagging);
        write(sim, leader, 20, "a");
        sim.runTicks(3);
        sim.snapshot(leader);
        long snapIndex = sim.raft(leader).snapshot().index();
        AtomicInteger sent = new AtomicInteger();
        sim.dropIf = m -> m.type() == MessageType.SNAPSHOT && sent.incrementAndGet() == 1; // the first transfer fails
        sim.heal();
        sim.runUntil(() -> sim.node(lagging).applied() >= snapIndex, 100, lagging + " catching up after a failed transfer");
        assertEquals(2, sent.get(), "the leader sent the snapshot again after the failed transfer");
        assertEquals(sim.node(leader).kv(), sim.node(lagging).kv());
    }

    @Test
    void aNodeRestartsFromItsSnapshotAndCompactedLog() {
        Simulation sim = cluster();
        String leader = electLeader(sim);
        write(sim, leader, 15, "a");
        sim.runTicks(3);
        String other = follower(sim, leader);
        sim.snapshot(other);
        assertTrue(sim.raft(other).status().firstIndex() > 1, other + " compacted");
        var before = new java.util.TreeMap<>(sim.node(other).kv());
        sim.crash(other);
        sim.restart(other);
        assertTrue(sim.node(other).applied() >= sim.raft(other).snapshot().index(), "restarted at or past its snapshot");
        write(sim, leader, 2, "b");
        sim.runTicks(5);
        assertEquals(sim.node(leader).kv(), sim.node(other).kv());
        assertTrue(before.size() > 0);
    }

    @Test
    void theCoreRefusesASnapshotThatIsNotAnAppliedPoint() {
        Simulation sim = cluster();
        String leader = electLeader(sim);
        write(sim, leader, 3, "a");
        sim.runTicks(2);
        Raft r = sim.raft(leader);
        long applied = r.lastApplied();
        assertThrows(IllegalArgumentException.class, () -> r.snapshotTaken(new SnapshotMeta(applied + 1, r.term())));
        assertThrows(IllegalArgumentException.class, () -> r.snapshotTaken(new SnapshotMeta(applied, r.term() + 1)));
        assertThrows(IllegalStateException.class, () -> new Raft(RaftConfig.defaults("n1", List.of("n1"), 0, new java.util.Random(1)),
                compacted(), SnapshotMeta.NONE), "a compacted log with no snapshot covering its start");
    }

    private static MemoryLogStorage compacted() {
        MemoryLogStorage m = new MemoryLogStorage();
        m.save(new HardState(1, null, 2), List.of(new Entry(1, 1, EntryType.NOOP, new byte[0]), new Entry(1, 2, EntryType.NOOP, new byte[0])));
        m.compact(2);
        return m;
    }
}
