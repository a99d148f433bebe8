package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.SimRunner;
import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Mutation;
import io.raftkv.raft.sim.Simulation;

import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/**
 * Mutation checks: the simulation run against deliberately broken variants (bad storage, a runtime that breaks the
 * Ready contract, reads that skip ReadIndex) must be caught by the checkers within a bounded number of seeds. If these
 * ever pass silently, the checkers have gone blind.
 */
class SimulationMutationTest {

    private static final int STEPS = 3000;

    /** Runs seeds 0.. until one fails with a message containing {@code property}; returns that failure, or null. */
    private static SimRunner.SimFailure firstFailure(int maxSeeds, int nodes, String property, Consumer<SimOptions> tweak) {
        return firstFailure(maxSeeds, nodes, property, STEPS, tweak);
    }

    private static SimRunner.SimFailure firstFailure(int maxSeeds, int nodes, String property, int steps, Consumer<SimOptions> tweak) {
        for (long seed = 0; seed < maxSeeds; seed++) {
            SimOptions o = SimOptions.random(seed, nodes);
            tweak.accept(o);
            try {
                SimRunner.run(o, steps);
            } catch (SimRunner.SimFailure f) {
                if (f.getMessage().contains(property)) {
                    System.out.println("mutation caught: " + f.getMessage());
                    return f;
                }
            }
        }
        return null;
    }

    @Test
    void aStorageThatForgetsTheVoteIsCaughtByVoteSafety() {
        SimRunner.SimFailure f = firstFailure(20, 3, "vote safety", o -> o.mutation = Mutation.FORGET_VOTE);
        assertNotNull(f, "a node voting twice in a term went unnoticed");
    }

    @Test
    void forgottenVotesEventuallyElectTwoLeadersInATerm() {
        // With the direct vote check off, election safety itself must notice the consequence.
        SimRunner.SimFailure f = firstFailure(300, 3, "election safety", o -> {
            o.mutation = Mutation.FORGET_VOTE;
            o.checkVotes = false;
            o.preVote = false;
            o.wCrash = 30;
            o.wRestart = 60;
        });
        assertNotNull(f, "two leaders in one term went unnoticed");
    }

    @Test
    void sendingBeforePersistingIsCaughtByTheLogCheckers() {
        // Acknowledging entries that then vanish in a crash: "committed" entries are not really on a quorum.
        SimRunner.SimFailure f = firstFailure(50, 3, "commit safety", o -> {
            o.mutation = Mutation.SEND_BEFORE_PERSIST;
            o.checkVotes = false;
        });
        assertNotNull(f, "committed entries missing from a quorum went unnoticed");
        // Without that check, the damage shows up later: a leader elected without a committed entry.
        SimRunner.SimFailure g = firstFailure(300, 5, "leader completeness", o -> {
            o.mutation = Mutation.SEND_BEFORE_PERSIST;
            o.checkVotes = false;
            o.checkCommitQuorum = false;
        });
        assertNotNull(g, "a leader without a committed entry went unnoticed");
        // And, further downstream, nodes applying different entries at one index.
        SimRunner.SimFailure h = firstFailure(300, 3, "commit safety", o -> {
            o.mutation = Mutation.SEND_BEFORE_PERSIST;
            o.checkVotes = false;
            o.checkCommitQuorum = false;
        });
        assertNotNull(h, "two entries committed at one index went unnoticed");
    }

    @Test
    void readsWithoutReadIndexAreCaughtByTheLinearizabilityChecker() {
        SimRunner.SimFailure f = firstFailure(20, 3, "linearizability", o -> o.mutation = Mutation.LOCAL_READS);
        assertNotNull(f, "stale reads went unnoticed");
        assertTrue(f.getMessage().contains("NOT linearizable"), f.getMessage());
    }

    @Test
    void aRestartThatSkipsLoadingTheSnapshotIsCaught() {
        // lastApplied jumps to the snapshot but the state machine lacks what it covers: the replicas diverge, or a
        // read returns an old value.
        SimRunner.SimFailure f = firstFailure(100, 3, "", o -> {
            o.mutation = Mutation.SKIP_SNAPSHOT_LOAD;
            o.wSnapshot = 20;
            o.wCrash = 20;
            o.wRestart = 40;
            o.wFlushStateMachine = 1;
        });
        assertNotNull(f, "a state machine that skipped its snapshot went unnoticed");
        assertTrue(f.getMessage().contains("snapshot safety") || f.getMessage().contains("diverged")
                || f.getMessage().contains("linearizab"), f.getMessage());
    }

    @Test
    void membershipChangesBeforeANewLeaderCommitsAreCaught() {
        // Leaders that change membership before committing an entry of their term: two changes from different
        // leaders can add up to a two-server change, and the newest leader's majority can miss the committed one's.
        // Four voters, as in the note: an even count leaves the two configurations' majorities room to miss.
        // A rare interleaving (a few seeds in a thousand): many changes, longer runs, and no leadership transfers
        // (a transfer under way refuses membership changes).
        Consumer<SimOptions> busyMembership = o -> {
            o.wConfChange = 60;
            o.spareNodes = 6;
            o.checkQuorum = true;
            o.wCrashLeader = 6;
            o.wIsolateLeader = 6;
            o.wTransfer = 0;
        };
        int steps = 10_000;
        SimRunner.SimFailure f = firstFailure(1000, 4, "", steps, o -> {
            busyMembership.accept(o);
            o.mutation = Mutation.CONF_CHANGE_BEFORE_TERM_COMMIT;
        });
        assertNotNull(f, "membership changes made before the own-term commit went unnoticed");
        // The same seed with the rule in place is safe: it was the mutation that broke it.
        SimOptions same = SimOptions.random(f.seed, 4);
        busyMembership.accept(same);
        SimRunner.run(same, steps);
        // Disjoint majorities show as any of these (two leaders of one term among them).
        assertTrue(f.getMessage().contains("membership safety") || f.getMessage().contains("commit safety")
                || f.getMessage().contains("leader completeness") || f.getMessage().contains("election safety"), f.getMessage());
    }

    /** Runs seeds 0..seeds-1; returns how many failed with a message containing {@code property} (printing the rate). */
    private static int caught(int seeds, int nodes, String property, Consumer<SimOptions> tweak) {
        int caught = 0;
        String example = null;
        for (long seed = 0; seed < seeds; seed++) {
            SimOptions o = SimOptions.random(seed, nodes);
            tweak.accept(o);
            try {
                SimRunner.run(o, STEPS);
            } catch (SimRunner.SimFailure f) {
                if (f.getMessage().contains(property)) {
                    caught++;
                    example = example == null ? f.getMessage() : example;
                }
            }
        }
        System.out.println("mutation caught in " + caught + " of " + seeds + " seeds by " + property + ", e.g. " + example);
        return caught;
    }

    /** Clients that retry early and often: most retries are sent while the first attempt may still commit. */
    private static void impatientClients(SimOptions o) {
        o.maxAttempts = 8;
        o.opTimeout = 5 + (int) (o.seed % 20);
        o.wWrite = 80;
    }

    @Test
    void aStateMachineWithoutSessionDedupIsCaughtApplyingARetryTwice() {
        // Seeds 0..19 with clients that retry early: when written, 19 of the 20 applied some retry twice.
        int n = caught(20, 3, "at-most-once", o -> {
            impatientClients(o);
            o.mutation = Mutation.NO_SESSION_DEDUP;
        });
        assertTrue(n >= 18, "a retried write applied twice went unnoticed in " + (20 - n) + " of 20 seeds");
        // The same seeds with dedup in place are safe: it was the mutation that broke them.
        for (long seed = 0; seed < 5; seed++) {
            SimOptions same = SimOptions.random(seed, 3);
            impatientClients(same);
            SimRunner.run(same, STEPS);
        }
    }

    @Test
    void aRuntimeThatAnswersNotProposedForAnAppendedWriteIsCaught() {
        int n = caught(20, 3, "503 contract", o -> o.mutation = Mutation.CLAIM_NOT_PROPOSED);
        assertTrue(n >= 18, "a 'not proposed' answer for an appended write went unnoticed in " + (20 - n) + " of 20 seeds");
    }

    @Test
    void aStateMachineThatIgnoresConditionsIsCaughtByTheLinearizabilityChecker() {
        // Compare-and-sets that always succeed: two from one read both "win", or one wins against a changed value.
        int n = caught(20, 3, "NOT linearizable", o -> {
            o.mutation = Mutation.IGNORE_CONDITIONS;
            o.wCas = 6;
        });
        assertTrue(n >= 15, "unconditional compare-and-sets went unnoticed in " + (20 - n) + " of 20 seeds");
    }
}
