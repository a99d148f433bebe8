package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.Mutation;
import io.raftkv.raft.sim.SafetyViolation;
import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Simulation;
import io.raftkv.statemachine.KvCommand;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/**
 * Client sessions through Raft, scripted: a write whose leader is cut off before it can answer is retried, with the
 * same client id and sequence number, at the next leader; the first copy commits too, and every replica applies the
 * request once (the retry is answered from the session). Without the dedup the same script applies it twice.
 */
class SessionScenarioTest {

    private static byte[] sessionPut(String key, String value, String client, long seq) {
        return KvCommand.put(key, value.getBytes(StandardCharsets.UTF_8)).withClient(client, seq).encode();
    }

    /** Returns the sim after the retry has been applied everywhere; the first copy's entry in {@code first[0]}. */
    private static Simulation retryAtTheNextLeader(Mutation mutation, Entry[] first) {
        SimOptions o = new SimOptions().seed(5).nodes(3);
        o.mutation = mutation;
        Simulation sim = new Simulation(o).start();
        sim.runUntil(() -> sim.stableLeader() != null, 200, "a leader everyone follows");
        String l1 = sim.stableLeader();
        byte[] cmd = sessionPut("k", "v1", "c", 1);
        // The followers get the entry; the leader hears nothing back, so it never learns the write committed.
        sim.dropIf = m -> m.to().equals(l1);
        first[0] = sim.proposeCommand(l1, cmd);
        sim.deliverAll();
        sim.isolate(l1);
        sim.dropIf = m -> false;
        sim.runUntil(() -> sim.leader() != null && !sim.leader().equals(l1), 200, "a new leader");
        String l2 = sim.leader();
        Entry retry = sim.proposeCommand(l2, cmd); // the client's retry, the same request
        assertNotNull(retry);
        assertTrue(retry.index() > first[0].index());
        sim.heal();
        sim.runUntil(() -> sim.nodes().stream().allMatch(n -> n.applied() >= retry.index()), 300, "the retry applied everywhere");
        return sim;
    }

    @Test
    void aRetryAtTheNextLeaderIsAppliedOnceEverywhere() {
        Entry[] first = new Entry[1];
        Simulation sim = retryAtTheNextLeader(Mutation.NONE, first);
        for (Simulation.SimNode n : sim.nodes()) {
            assertEquals(1, n.state().applications("c", 1), n.id + " executed the request once");
            assertEquals("v1", n.kv().get("k"));
            assertEquals(first[0].index(), n.state().get("k").version(), n.id + ": the key's version is the first copy's index");
        }
        Entry later = sim.proposeCommand(sim.stableLeader(), sessionPut("k", "v2", "c", 2));
        sim.runUntil(() -> sim.nodes().stream().allMatch(n -> n.applied() >= later.index()), 100, "the next request applied");
        assertNotEquals(first[0].index(), sim.node(sim.stableLeader()).state().get("k").version());
        sim.finish();
    }

    @Test
    void withoutSessionDedupTheRetryIsCaughtApplyingTwice() {
        SafetyViolation v = assertThrows(SafetyViolation.class, () -> retryAtTheNextLeader(Mutation.NO_SESSION_DEDUP, new Entry[1]));
        assertTrue(v.getMessage().contains("at-most-once"), v.getMessage());
    }
}
