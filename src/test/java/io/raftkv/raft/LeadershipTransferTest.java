package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Simulation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** Leadership transfer (TIMEOUT_NOW), under the simulation's safety checker. */
class LeadershipTransferTest {

    private final List<Simulation> sims = new ArrayList<>();

    @AfterEach
    void finalChecks() {
        sims.forEach(Simulation::finish);
    }

    private Simulation cluster(int nodes) {
        Simulation sim = new Simulation(new SimOptions().seed(11).nodes(nodes)).start();
        sims.add(sim);
        return sim;
    }

    private static String electLeader(Simulation sim) {
        sim.runUntil(() -> sim.stableLeader() != null, 200, "a leader everyone follows");
        return sim.stableLeader();
    }

    private static String aFollower(Simulation sim, String leader) {
        return sim.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
    }

    @Test
    void anUpToDateFollowerTakesOverInTheNextTermWithoutAnElectionTimeout() {
        Simulation sim = cluster(3);
        String leader = electLeader(sim);
        Entry e = sim.propose(leader, "k", "v");
        sim.runUntil(() -> sim.nodes().stream().allMatch(n -> n.applied() >= e.index()), 100, "replicated");
        long term = sim.raft(leader).term();
        String target = aFollower(sim, leader);

        assertTrue(sim.transferLeadership(leader, target));
        assertNull(sim.propose(leader, "k", "during"), "no proposals while handing over");
        sim.deliverAll();
        sim.deliverAll();
        sim.deliverAll();
        assertEquals(target, sim.leader(), "taken over by message exchange alone, before any tick");
        assertEquals(term + 1, sim.raft(target).term());
        sim.runUntil(() -> target.equals(sim.stableLeader()), 50, "everyone following " + target);
        assertEquals(Role.FOLLOWER, sim.raft(leader).role());
        Entry after = sim.propose(target, "k", "after");
        assertNotNull(after);
        sim.runUntil(() -> sim.nodes().stream().allMatch(n -> n.applied() >= after.index()), 100, "replicated");
        assertEquals("after", sim.node(leader).kv().get("k"));
    }

    @Test
    void aLaggingTargetIsCaughtUpFirst() {
        Simulation sim = cluster(5);
        String leader = electLeader(sim);
        String target = aFollower(sim, leader);
        sim.block(leader, target);
        Entry last = null;
        for (int i = 0; i < 20; i++) {
            last = sim.propose(leader, "k" + i, "v" + i);
        }
        Entry lastEntry = last;
        sim.runUntil(() -> sim.raft(leader).commitIndex() >= lastEntry.index(), 100, "committed without the target");
        assertTrue(sim.raft(target).lastIndex() < lastEntry.index(), "the target lags");
        sim.heal();
        assertTrue(sim.transferLeadership(leader, target));
        sim.runUntil(() -> target.equals(sim.stableLeader()), 100, target + " leading");
        assertTrue(sim.raft(target).lastIndex() > lastEntry.index(), "it had the whole log (and its own no-op)");
        assertEquals("v19", sim.node(target).kv().get("k19"));
    }

    @Test
    void aTransferToADeadNodeIsAbandonedAfterAnElectionTimeout() {
        Simulation sim = cluster(3);
        String leader = electLeader(sim);
        String target = aFollower(sim, leader);
        sim.crash(target);
        long term = sim.raft(leader).term();
        assertTrue(sim.transferLeadership(leader, target));
        assertNull(sim.propose(leader, "k", "refused"));
        sim.runTicks(15);
        assertEquals(Role.LEADER, sim.raft(leader).role());
        assertEquals(term, sim.raft(leader).term());
        assertNull(sim.raft(leader).leadTransferee());
        assertNotNull(sim.propose(leader, "k", "accepted-again"));
    }

    @Test
    void onlyALeaderTransfersAndOnlyToAnotherVoter() {
        Simulation sim = cluster(3);
        String leader = electLeader(sim);
        String follower = aFollower(sim, leader);
        assertFalse(sim.transferLeadership(follower, leader));
        assertFalse(sim.transferLeadership(leader, leader));
        assertFalse(sim.transferLeadership(leader, "stranger"));
        assertEquals(leader, sim.stableLeader());
    }
}
