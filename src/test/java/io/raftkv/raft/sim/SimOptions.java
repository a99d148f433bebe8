package io.raftkv.raft.sim;

import java.io.PrintStream;
import java.util.Random;

/** Knobs of a run. */
public final class SimOptions {
    public long seed;
    public int nodes = 3;
    public int electionTick = 10;
    public int heartbeatTick = 1;
    public boolean preVote = true;
    public boolean checkQuorum = true;
    public long maxMsgBytes = 1 << 20;
    public int maxInflight = 256;
    /** Bound on the entry bytes of a peer's unacknowledged appends (0: none). */
    public long maxInflightBytes;
    public long maxApplyBytes = 16 << 20;

    // Chaos: relative weights of the actions chaosStep() picks from.
    public int wDeliver = 500;
    public int wTick = 200;
    public int wWrite = 40;
    public int wRead = 30;
    public int wProcess = 40;
    public int wDrop = 15;
    public int wDuplicate = 10;
    /** Hold a message back for a long time (up to a few thousand steps), then deliver it. */
    public int wDelay = 5;
    public int wCrash = 3;
    public int wRestart = 10;
    public int wPartition = 4;
    public int wHeal = 6;
    public int wFlushStateMachine = 10;
    /** Take a snapshot on a random node and compact its log (0: never, the log is never compacted). */
    public int wSnapshot = 0;
    /** Entries kept behind a snapshot when compacting: a random number from 0 to this. */
    public int compactionMargin = 2;
    /** Cut the (a) current leader off from everyone; crash the current leader. */
    public int wIsolateLeader = 3;
    public int wCrashLeader = 2;
    /**
     * Membership changes: how often the leader is asked for a random single-server change (0: never), and how many
     * spare servers (ids after the {@code nodes} bootstrap voters) exist to be added; ids are never reused.
     */
    public int wConfChange = 0;
    public int spareNodes = 0;
    /** Probability that a node's Ready is left for later after an input (batching). */
    public double batchProbability = 0.2;
    /** Probability that delivery picks a random in-flight message rather than the oldest (reordering). */
    public double reorderProbability = 0.25;

    /** Ask the leader to hand leadership to a random member (0: never). */
    public int wTransfer = 0;

    public int clients = 4;
    public int keys = 3;
    /** Steps after which a client stops waiting for an attempt (outcome unknown) and retries. */
    public int opTimeout = 500;
    /** How a client's writes divide into unconditional puts, compare-and-sets (put or delete) and deletes. */
    public int wPut = 5;
    public int wCas = 3;
    public int wDelete = 2;
    /** Attempts per request (1: no retries); a retry waits 1 to {@code retryDelay} steps. */
    public int maxAttempts = 5;
    public int retryDelay = 30;

    /**
     * Handle Readies in the node runtime's real order (RaftNode.handleReady) instead of persist-then-send: a leader's
     * AppendEntries and heartbeats leave before its own disk write (and it may crash in between), and a change of the
     * commit index alone is not saved (it rides along with the next write of entries, term or vote, so a restart may
     * find applied state ahead of the saved commit index).
     */
    public boolean runtimeOrder;

    public Mutation mutation = Mutation.NONE;
    /** Check that no node grants two votes in a term (off: leave it to election safety to notice). */
    public boolean checkVotes = true;
    /** Check that committed entries stay on a quorum of disks (off: leave it to the other checks to notice). */
    public boolean checkCommitQuorum = true;
    /** Keep the last {@code traceKeep} events for failure reports. */
    public boolean trace;
    public int traceKeep = 300;
    /** Print every event here (single-seed reruns). */
    public PrintStream verbose;

    public SimOptions seed(long s) {
        seed = s;
        return this;
    }

    public SimOptions nodes(int n) {
        nodes = n;
        return this;
    }

    /** Options for a randomized run: Raft settings and fault intensity vary with the seed. */
    public static SimOptions random(long seed, int nodes) {
        SimOptions o = new SimOptions();
        o.seed = seed;
        o.nodes = nodes;
        Random r = new Random(seed * 1_000_003L + nodes);
        o.preVote = r.nextInt(4) != 0;
        o.checkQuorum = r.nextInt(4) != 0;
        o.electionTick = 5 + r.nextInt(12);
        o.heartbeatTick = 1 + r.nextInt(Math.min(3, o.electionTick / 3));
        if (r.nextInt(3) == 0) {
            o.maxMsgBytes = 40 + r.nextInt(120); // one to a few entries per append
        }
        if (r.nextInt(3) == 0) {
            o.maxInflight = 1 + r.nextInt(4);
        }
        if (r.nextInt(3) == 0) {
            o.maxApplyBytes = 1 + r.nextInt(80);
        }
        o.batchProbability = r.nextBoolean() ? 0 : 0.3;
        o.reorderProbability = r.nextInt(4) == 0 ? 0 : 0.3;
        o.wHeal = 2 + r.nextInt(6); // how long partitions last
        int weather = r.nextInt(3);
        if (r.nextBoolean()) { // half the seeds snapshot and compact often, so InstallSnapshot is exercised
            o.wSnapshot = 2 + r.nextInt(30);
            o.compactionMargin = r.nextInt(4);
        }
        switch (weather) {
            case 0 -> { // calm: rare faults
                o.wDrop = 2;
                o.wDuplicate = 2;
                o.wCrash = 1;
                o.wPartition = 1;
                o.wIsolateLeader = 1;
                o.wCrashLeader = 0;
            }
            case 1 -> { // normal: defaults
            }
            default -> { // stormy
                o.wDrop = 40;
                o.wDuplicate = 25;
                o.wCrash = 8;
                o.wPartition = 10;
                o.wHeal = 8;
                o.wIsolateLeader = 6;
                o.wCrashLeader = 4;
            }
        }
        // Half the seeds change membership. A removed server that never learns of its removal keeps campaigning; only
        // PreVote or CheckQuorum keep it from disrupting the cluster (dissertation 4.2.3), so those seeds have one.
        if (r.nextBoolean() && (o.preVote || o.checkQuorum)) {
            o.wConfChange = 1 + r.nextInt(8);
            o.spareNodes = 2 + r.nextInt(4);
        }
        o.runtimeOrder = r.nextBoolean(); // drawn after the others: the earlier options of a seed stay what they were
        if (r.nextInt(3) == 0) {
            o.maxInflightBytes = 20 + r.nextInt(200); // a few entries' worth: flow control by bytes
        }
        // The client workload and leadership transfers, drawn last for the same reason.
        o.wCas = r.nextInt(4) == 0 ? 0 : 1 + r.nextInt(5);
        o.wDelete = r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(3);
        o.maxAttempts = r.nextInt(5) == 0 ? 1 : 2 + r.nextInt(6);
        // Half the seeds have impatient clients: they retry while the first attempt may still commit (duplicates).
        o.opTimeout = r.nextBoolean() ? 10 + r.nextInt(60) : 100 + r.nextInt(500);
        o.wTransfer = r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(8);
        return o;
    }
}
