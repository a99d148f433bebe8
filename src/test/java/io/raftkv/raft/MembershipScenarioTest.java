package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.confchange.ConfChangeRefusedException;
import io.raftkv.raft.confchange.ConfChangeRefusedException.Reason;
import io.raftkv.raft.sim.Mutation;
import io.raftkv.raft.sim.SafetyViolation;
import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Scripted membership change scenarios (dissertation chapter 4) on the simulated cluster, under the safety checker of
 * the randomized runs (which includes the membership checks). The cluster bootstraps with {@code nodes} voters; spare
 * servers (the ids after them) boot with an empty configuration and wait to be added.
 */
class MembershipScenarioTest {

    private final List<Simulation> sims = new ArrayList<>();

    @AfterEach
    void finalChecks() {
        for (Simulation sim : sims) {
            sim.finish();
        }
    }

    private Simulation cluster(int voters, int spares, Consumer<SimOptions> tweak) {
        SimOptions o = new SimOptions().seed(5).nodes(voters);
        o.spareNodes = spares;
        o.compactionMargin = 0;
        tweak.accept(o);
        Simulation sim = new Simulation(o).start();
        sims.add(sim);
        return sim;
    }

    private static String electLeader(Simulation sim) {
        sim.runUntil(() -> sim.stableLeader() != null, 300, "a leader its configuration follows");
        return sim.stableLeader();
    }

    private static void write(Simulation sim, String leader, int n) {
        for (int i = 0; i < n; i++) {
            assertNotNull(sim.propose(leader, "k" + (i % 4), "v" + i));
            sim.deliverAll();
        }
    }

    /** Proposes {@code c} at the leader and runs until it is committed there. */
    private static Entry commitChange(Simulation sim, String leader, ConfChange c) {
        Entry e = sim.proposeConfChange(leader, c);
        assertNotNull(e, leader + " is not the leader: " + sim.describeCluster());
        sim.runUntil(() -> sim.raft(leader).commitIndex() >= e.index() || sim.raft(leader).role() != Role.LEADER, 100,
                "the change " + c + " commits");
        return e;
    }

    private static List<String> others(Simulation sim, String leader, int count) {
        return sim.ids().stream().filter(id -> !id.equals(leader) && sim.raft(leader).configuration().isVoter(id)).limit(count).toList();
    }

    // ---------------------------------------------------------------------------------------------------------------

    @Test
    void aLearnerCatchesUpIsPromotedAndThenCountsForCommit() {
        Simulation sim = cluster(3, 1, o -> {
        });
        String leader = electLeader(sim);
        write(sim, leader, 20);
        assertTrue(sim.raft("n4").configuration().isEmpty(), "a spare server starts with no configuration");

        commitChange(sim, leader, ConfChange.addLearner("n4", "http://n4:8080".getBytes()));
        sim.runTicks(3);
        RaftStatus st = sim.raft(leader).status();
        assertEquals(List.of("n4"), st.configuration().learners());
        assertFalse(st.configChangePending());
        assertTrue(st.peers().get("n4").matchIndex() >= st.commitIndex(), "the learner caught up: " + st.peers());
        assertEquals(sim.node(leader).kv(), sim.node("n4").kv(), "the learner applied the log");
        assertEquals(st.configuration(), sim.raft("n4").configuration(), "the learner knows the configuration");

        commitChange(sim, leader, ConfChange.promote("n4"));
        sim.runTicks(2);
        assertEquals(List.of("n1", "n2", "n3", "n4"), sim.raft(leader).configuration().voters());
        assertTrue(sim.raft(leader).configuration().learners().isEmpty());

        // Four voters: a quorum is three, so the leader and one follower commit nothing; the promoted n4 makes three.
        List<String> f = others(sim, leader, 3).stream().filter(id -> !id.equals("n4")).toList();
        sim.isolate("n4");
        sim.isolate(f.get(0));
        Entry e = sim.propose(leader, "k", "needs-three");
        sim.deliverAll();
        assertTrue(sim.raft(leader).commitIndex() < e.index(), "two of four voters committed an entry");
        sim.heal();
        sim.isolate(f.get(0));
        sim.runUntil(() -> sim.raft(leader).commitIndex() >= e.index(), 20, "n4's acknowledgement commits");
    }

    @Test
    void learnersNeverVoteCampaignOrCountForCommit() {
        Simulation sim = cluster(3, 1, o -> {
        });
        String leader = electLeader(sim);
        commitChange(sim, leader, ConfChange.addLearner("n4", null));
        sim.runTicks(2);
        List<String> followers = others(sim, leader, 2);

        // Leader + learner are two of four members, but one of three voters: nothing commits.
        sim.partition(List.of(Set.of(leader, "n4"), Set.of(followers.get(0)), Set.of(followers.get(1))));
        Entry e = sim.propose(leader, "k", "v");
        sim.deliverAll();
        assertTrue(sim.node("n4").raft().lastIndex() >= e.index(), "the learner has the entry");
        assertTrue(sim.raft(leader).commitIndex() < e.index(), "a learner's copy counted toward commit");

        // The learner never campaigns, even with no leader for many election timeouts.
        AtomicInteger learnerVoteRequests = new AtomicInteger();
        sim.onDeliver = m -> {
            if (m.from().equals("n4") && (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE)) {
                learnerVoteRequests.incrementAndGet();
            }
        };
        sim.crash(leader);
        sim.heal();
        long learnerTerm = sim.raft("n4").term();
        sim.runTicks(100);
        assertEquals(0, learnerVoteRequests.get(), "the learner asked for votes");
        String next = sim.stableLeader();
        assertNotNull(next);
        assertFalse(next.equals("n4"));
        assertTrue(sim.raft(next).term() > learnerTerm, "the voters elected a leader without the learner");
        sim.restart(leader);
        sim.runTicks(5);
    }

    @Test
    void aRemovedLeaderLeadsWithoutCountingItselfThenStepsDownOnCommit() {
        Simulation sim = cluster(3, 0, o -> {
        });
        String leader = electLeader(sim);
        write(sim, leader, 3);
        List<String> f = others(sim, leader, 2);
        sim.block(f.get(1), leader); // f1's acknowledgements do not arrive
        Entry e = sim.proposeConfChange(leader, ConfChange.remove(leader));
        assertFalse(sim.raft(leader).configuration().isMember(leader), "the removal takes effect on append");
        assertEquals(Role.LEADER, sim.raft(leader).role(), "the leader keeps leading until the removal commits");
        sim.runTicks(3);
        // The old configuration's majority (leader + f0) holds the entry, the new one's (f0 + f1) does not.
        assertTrue(sim.raft(leader).commitIndex() < e.index(), "the removed leader counted itself");
        assertEquals(Role.LEADER, sim.raft(leader).role());
        assertTrue(sim.raft(leader).status().configChangePending());
        assertThrows(ConfChangeRefusedException.class, () -> sim.proposeConfChange(leader, ConfChange.addLearner("x", null)));

        sim.heal();
        sim.runUntil(() -> sim.raft(leader).role() != Role.LEADER, 20, "the removed leader steps down");
        assertTrue(sim.raft(leader).commitIndex() >= e.index(), "it stepped down once the removal committed");
        String next = electLeader(sim);
        assertTrue(f.contains(next));
        long term = sim.raft(next).term();
        sim.runTicks(100);
        assertEquals(term, sim.raft(next).term(), "the removed server disrupted the cluster");
        assertEquals(Role.FOLLOWER, sim.raft(leader).role(), "the removed server campaigns");
        write(sim, next, 3);
    }

    @Test
    void aRemovedServerThatNeverLearnsOfItDoesNotDisruptTheCluster() {
        // PreVote (its log falls behind) or the CheckQuorum lease (members hear from their leader) each suffice.
        for (boolean preVote : new boolean[] {true, false}) {
            Simulation sim = cluster(3, 0, o -> {
                o.preVote = preVote;
                o.checkQuorum = !preVote;
            });
            String leader = electLeader(sim);
            String removed = others(sim, leader, 2).get(1);
            sim.isolate(removed);
            commitChange(sim, leader, ConfChange.remove(removed));
            write(sim, leader, 3);
            assertTrue(sim.raft(removed).configuration().isVoter(removed), "it never heard of its removal");
            long term = sim.raft(leader).term();
            AtomicInteger requests = new AtomicInteger();
            sim.onDeliver = m -> {
                if (m.from().equals(removed) && (m.type() == MessageType.VOTE || m.type() == MessageType.PRE_VOTE)) {
                    requests.incrementAndGet();
                }
            };
            sim.heal();
            sim.runTicks(200);
            assertTrue(requests.get() > 0, "the removed server was expected to keep campaigning (preVote=" + preVote + ")");
            assertEquals(leader, sim.stableLeader(), "preVote=" + preVote);
            assertEquals(term, sim.raft(leader).term(), "the removed server disrupted the leader (preVote=" + preVote + ")");
            write(sim, leader, 3);
        }
    }

    @Test
    void aConfigurationTakesEffectOnAppendAndIsRevertedWithATruncatedEntry() {
        Simulation sim = cluster(5, 1, o -> {
        });
        String leader = electLeader(sim);
        write(sim, leader, 2);
        Configuration before = sim.raft(leader).configuration();
        List<String> f = others(sim, leader, 4);
        String holder = f.get(0);
        // Only `holder` receives the change, and its acknowledgement is lost: appended there, committed nowhere.
        sim.partition(List.of(Set.of(leader, holder), Set.of(f.get(1), f.get(2), f.get(3))));
        sim.block(holder, leader);
        Entry e = sim.proposeConfChange(leader, ConfChange.addLearner("n6", null));
        assertTrue(sim.raft(leader).configuration().isLearner("n6"), "in effect on the leader when appended");
        sim.deliverAll();
        assertTrue(sim.raft(holder).lastIndex() >= e.index());
        assertTrue(sim.raft(holder).commitIndex() < e.index());
        assertTrue(sim.raft(holder).configuration().isLearner("n6"), "in effect on a follower when appended, uncommitted");

        // The other three elect a leader that never had the entry and overwrite its index.
        sim.crash(leader);
        sim.isolate(holder);
        sim.runUntil(() -> {
            String l = sim.leader();
            return l != null && !l.equals(holder) && sim.raft(l).commitIndex() >= e.index();
        }, 300, "a new leader commits past the change's index");
        String next = sim.leader();
        assertEquals(before, sim.raft(next).configuration());
        sim.heal();
        sim.runUntil(() -> !sim.raft(holder).configuration().isLearner("n6"), 100, "the holder's log is truncated");
        assertEquals(before, sim.raft(holder).configuration(), "the truncated change is reverted");
        sim.restart(leader);
        sim.runTicks(10);
        assertEquals(before, sim.raft(leader).configuration(), "the old leader reverts too, after its restart");
    }

    @Test
    void oneChangeAtATimeAndOnlyValidOnes() {
        Simulation sim = cluster(3, 2, o -> {
        });
        String leader = electLeader(sim);
        Entry first = sim.proposeConfChange(leader, ConfChange.addLearner("n4", null));
        ConfChangeRefusedException pending = assertThrows(ConfChangeRefusedException.class,
                () -> sim.proposeConfChange(leader, ConfChange.addLearner("n5", null)));
        assertEquals(Reason.CHANGE_PENDING, pending.reason());
        assertTrue(sim.raft(leader).status().configChangePending());
        sim.runUntil(() -> sim.raft(leader).commitIndex() >= first.index(), 20, "the first change commits");
        assertFalse(sim.raft(leader).status().configChangePending());
        assertNotNull(sim.proposeConfChange(leader, ConfChange.addLearner("n5", null)), "accepted once the first committed");
        sim.runTicks(3);

        assertEquals(Reason.INVALID, assertThrows(ConfChangeRefusedException.class,
                () -> sim.proposeConfChange(leader, ConfChange.promote(leader))).reason(), "promote a voter");
        assertEquals(Reason.INVALID, assertThrows(ConfChangeRefusedException.class,
                () -> sim.proposeConfChange(leader, ConfChange.addLearner("n4", null))).reason(), "add a member");
        assertEquals(Reason.INVALID, assertThrows(ConfChangeRefusedException.class,
                () -> sim.proposeConfChange(leader, ConfChange.remove("zz"))).reason(), "remove a stranger");
        String follower = others(sim, leader, 1).get(0);
        assertEquals(null, sim.proposeConfChange(follower, ConfChange.promote("n4")), "a follower proposes nothing");
        assertThrows(IllegalArgumentException.class, () -> sim.raft(leader).propose(EntryType.CONFIG, new byte[0]));
    }

    @Test
    void aNewLeaderChangesNothingBeforeItCommitsAnEntryOfItsTerm() {
        Simulation sim = cluster(3, 1, o -> {
        });
        // The first leader's no-op never commits: it reaches no follower (nor would its acknowledgement).
        sim.dropIf = m -> m.type() == MessageType.APPEND_RESPONSE || m.type() == MessageType.APPEND;
        sim.runUntil(() -> sim.leader() != null, 300, "a leader");
        String leader = sim.leader();
        ConfChangeRefusedException x = assertThrows(ConfChangeRefusedException.class,
                () -> sim.proposeConfChange(leader, ConfChange.addLearner("n4", null)));
        assertEquals(Reason.LEADER_NOT_READY, x.reason());
        sim.dropIf = m -> false;
        String l = electLeader(sim);
        sim.runTicks(2);
        assertNotNull(sim.proposeConfChange(l, ConfChange.addLearner("n4", null)));
        sim.runTicks(3);
    }

    /**
     * The single-server change bug (Ongaro, raft-dev, 2015): C0 = four voters and a learner. Leader L of term 1
     * appends C1 = C0 + promote(n5) on itself and n5 only. A leader A of term 2, elected by the other three without
     * that entry, appends C2 = C0 - L before committing anything of its own term, and commits it with B under C2.
     * L then wins term 3 with n5 and C (who never saw A's entries) under C1, and overwrites A's committed entries:
     * C1 and C2 are each one server from C0, but two servers from each other. Waiting for an entry of its own term
     * to commit makes A refuse C2 (its no-op needs three of C0's voters), and the run stays safe.
     */
    private static void singleServerChangeBug(Simulation sim) {
        String leader = electLeader(sim);
        commitChange(sim, leader, ConfChange.addLearner("n5", null));
        sim.runTicks(2);
        List<String> abc = others(sim, leader, 3);
        String a = abc.get(0);
        String b = abc.get(1);
        String c = abc.get(2);
        sim.partition(List.of(Set.of(leader, "n5"), Set.of(a, b, c)));
        Entry c1 = sim.proposeConfChange(leader, ConfChange.promote("n5"));
        sim.deliverAll();
        assertTrue(sim.raft("n5").configuration().isVoter("n5"));

        // Only a campaigns; c votes, but never receives the new leader's entries.
        sim.dropIf = m -> m.to().equals(c) && m.type() == MessageType.APPEND && !m.entries().isEmpty();
        sim.runUntil(() -> {
            sim.tick(a);
            return sim.raft(a).role() == Role.LEADER;
        }, 200, a + " leads");
        sim.deliverAll();
        assertTrue(sim.raft(a).commitIndex() < c1.index(), "a's no-op is on two of four voters only");
        try {
            sim.proposeConfChange(a, ConfChange.remove(leader));
        } catch (ConfChangeRefusedException refused) {
            assertEquals(Reason.LEADER_NOT_READY, refused.reason());
        }
        sim.deliverAll();

        // L and n5 reach c; only L campaigns.
        sim.dropIf = m -> false;
        sim.partition(List.of(Set.of(leader, "n5", c), Set.of(a, b)));
        long aTerm = sim.raft(a).term();
        sim.runUntil(() -> {
            sim.tick(leader);
            return sim.raft(leader).role() == Role.LEADER && sim.raft(leader).term() > aTerm;
        }, 300, leader + " leads again");
        sim.runTicks(3);
        sim.heal();
        electLeader(sim);
        sim.runTicks(5);
    }

    @Test
    void theOwnTermRuleStopsTheSingleServerChangeBug() {
        singleServerChangeBug(cluster(4, 1, o -> o.checkQuorum = false));
    }

    @Test
    void withoutTheOwnTermRuleTheCheckerCatchesTheBug() {
        Simulation sim = cluster(4, 1, o -> {
            o.checkQuorum = false;
            o.mutation = Mutation.CONF_CHANGE_BEFORE_TERM_COMMIT;
        });
        SafetyViolation v = assertThrows(SafetyViolation.class, () -> singleServerChangeBug(sim));
        assertTrue(v.getMessage().startsWith("membership safety"), v.getMessage());
        sims.remove(sim); // its history is broken by design
    }

    @Test
    void aRestartedOrJoiningServerRebuildsTheConfigurationFromSnapshotAndLog() {
        Simulation sim = cluster(3, 2, o -> {
        });
        String leader = electLeader(sim);
        write(sim, leader, 5);
        commitChange(sim, leader, ConfChange.addLearner("n4", null));
        sim.runTicks(2);
        commitChange(sim, leader, ConfChange.promote("n4"));
        sim.runTicks(2);
        write(sim, leader, 5);
        // Every server snapshots: the CONFIG entries are compacted away, only the snapshots know them.
        for (String id : List.of("n1", "n2", "n3", "n4")) {
            sim.snapshot(id);
        }
        assertEquals(sim.raft(leader).configuration(), sim.raft(leader).snapshot().configuration());
        String removed = others(sim, leader, 3).stream().filter(id -> !id.equals("n4")).findFirst().orElseThrow();
        commitChange(sim, leader, ConfChange.remove(removed));
        sim.runTicks(2);
        Configuration now = sim.raft(leader).configuration();
        assertEquals(3, now.voters().size());
        for (String id : now.voters()) {
            if (!id.equals(leader)) {
                sim.crash(id);
                sim.restart(id);
                assertEquals(now, sim.raft(id).configuration(), id + " rebuilt its configuration from its snapshot and the CONFIG entry after it");
            }
        }
        // A joining server behind the compacted log gets the configuration with the snapshot.
        commitChange(sim, leader, ConfChange.addLearner("n5", null));
        sim.runTicks(5);
        assertEquals(sim.raft(leader).configuration(), sim.raft("n5").configuration());
        assertEquals(sim.node(leader).kv(), sim.node("n5").kv());
    }
}
