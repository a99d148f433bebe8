package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.Mutation;
import io.raftkv.raft.sim.SafetyViolation;
import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

/**
 * Figure 8 of the Raft paper (section 5.4.2), scripted on five simulated nodes: an entry of an old term that a new
 * leader has copied to a majority may still be overwritten, so a leader commits only entries of its own term (older
 * ones commit with them). The same script is run with that rule lifted (Mutation.COMMIT_OLD_TERM): the leader then
 * "commits" the old entry, a later leader overwrites it, and the safety checker must catch it, every time (the script
 * is deterministic; several seeds vary the election timing).
 */
class Figure8Test {

    /** What the script saw: the old entry, and whether its leader counted it committed. */
    private record Outcome(Simulation sim, Entry x, String s1, String s5, String c, boolean s1CommittedX) {
    }

    private static Simulation cluster(long seed, Mutation mutation) {
        SimOptions o = new SimOptions().seed(seed).nodes(5);
        o.maxMsgBytes = 1; // one entry per AppendEntries: the script drops a leader's second entry but not its first
        o.mutation = mutation;
        return new Simulation(o).start();
    }

    private static String leaderAmong(Simulation sim, Set<String> among) {
        for (String id : among) {
            Simulation.SimNode n = sim.node(id);
            if (n.up() && n.raft().role() == Role.LEADER) {
                return id;
            }
        }
        return null;
    }

    private static Outcome script(long seed, Mutation mutation) {
        Simulation sim = cluster(seed, mutation);
        // (a) S1 leads; everything so far is committed everywhere.
        sim.runUntil(() -> sim.stableLeader() != null, 300, "a first leader");
        String s1 = sim.stableLeader();
        Entry base = sim.propose(s1, "k", "base");
        assertNotNull(base);
        sim.runUntil(() -> sim.nodes().stream().allMatch(n -> n.applied() >= base.index()), 300, "base everywhere");
        List<String> others = new ArrayList<>(sim.ids());
        others.remove(s1);
        String s2 = others.get(0);
        Set<String> minority = Set.of(s1, s2);
        Set<String> majority = Set.of(others.get(1), others.get(2), others.get(3));

        // (b) S1, cut off with S2, appends X (term T) and copies it to S2 only.
        sim.partition(List.of(minority, majority));
        Entry x = sim.propose(s1, "k", "X");
        assertNotNull(x, "S1 still leads when the partition starts");
        sim.runUntil(() -> sim.node(s2).disk.lastIndex() >= x.index(), 100, "X on S2");

        // (c) The other three elect S5 (term T+1), whose own first entry (its no-op at X's index) reaches no one.
        sim.dropIf = m -> m.type() == MessageType.APPEND;
        sim.runUntil(() -> leaderAmong(sim, majority) != null, 400, "a leader among " + majority);
        String s5 = leaderAmong(sim, majority);
        assertEquals(x.index(), sim.node(s5).disk.lastIndex());
        long t2 = sim.node(s5).disk.term(x.index());
        assertTrue(t2 > x.term());
        sim.crash(s5);
        List<String> rest = new ArrayList<>(majority);
        rest.remove(s5);
        String c = rest.get(0);
        String d = rest.get(1);

        // (d) S1 is elected again (term T+2) by itself, C and D; it copies X to C, so that X is on S1, S2 and C: a
        //     majority. Its own no-op reaches S2 only, not a majority.
        // (Probes to C pass, so that S1 finds C's log end; once C holds X, S1's next entry is dropped.)
        sim.dropIf = m -> m.type() == MessageType.APPEND && m.from().equals(s1) && (m.to().equals(d)
                || (m.to().equals(c) && sim.node(c).disk.lastIndex() >= x.index()
                    && m.entries().stream().anyMatch(e -> e.index() > x.index())));
        sim.partition(List.of(Set.of(s1, c, d), Set.of(s2), Set.of(s5)));
        sim.runUntil(() -> sim.raft(s1).role() == Role.LEADER && sim.raft(s1).term() > t2, 600, s1 + " leading again");
        long t3 = sim.raft(s1).term();
        sim.partition(List.of(Set.of(s1, s2, c, d), Set.of(s5)));
        sim.runUntil(() -> sim.node(c).disk.lastIndex() >= x.index() && sim.node(c).disk.term(x.index()) == x.term()
                && sim.node(s2).disk.lastIndex() > x.index(), 300, "X on " + c + ", S1's no-op on " + s2);
        sim.runTicks(5); // the acknowledgements reach S1
        assertEquals(t3, sim.raft(s1).term());
        boolean committed = sim.raft(s1).commitIndex() >= x.index();

        // (e) S1 crashes; S5 comes back and is elected by C and D (its last entry, of term T+1, is newer than X),
        //     then copies its own entry over X.
        sim.crash(s1);
        sim.dropIf = m -> false;
        sim.partition(List.of(Set.of(s5, c, d), Set.of(s2)));
        sim.restart(s5);
        sim.runUntil(() -> sim.node(s5).up() && sim.raft(s5).role() == Role.LEADER, 600, s5 + " leading");
        sim.runUntil(() -> sim.node(c).disk.term(x.index()) != x.term(), 300, "X overwritten on " + c);
        sim.heal();
        sim.runTicks(50);
        return new Outcome(sim, x, s1, s5, c, committed);
    }

    @Test
    void anOldTermEntryOnAMajorityIsNotCommittedAndMayBeOverwritten() {
        for (long seed = 1; seed <= 5; seed++) {
            Outcome o = script(seed, Mutation.NONE);
            assertTrue(!o.s1CommittedX(), "seed " + seed + ": S1 must not count X (term " + o.x().term() + ") committed in a later term");
            assertTrue(o.sim().node(o.c()).disk.term(o.x().index()) > o.x().term(), "S5's entry replaced X");
            o.sim().finish(); // every safety property held throughout
        }
    }

    @Test
    void liftingTheCurrentTermRuleIsCaughtEveryTime() {
        for (long seed = 1; seed <= 5; seed++) {
            long s = seed;
            SafetyViolation v = assertThrows(SafetyViolation.class, () -> {
                Outcome o = script(s, Mutation.COMMIT_OLD_TERM);
                o.sim().finish();
            }, "seed " + seed + ": a committed entry overwritten went unnoticed");
            assertTrue(v.getMessage().contains("safety") || v.getMessage().contains("completeness"), v.getMessage());
            System.out.println("Figure 8 mutation caught (seed " + seed + "): " + v.getMessage().lines().findFirst().orElse(""));
        }
    }
}
