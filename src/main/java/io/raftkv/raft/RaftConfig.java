package io.raftkv.raft;

import java.util.List;
import java.util.Random;

/**
 * Parameters of one node's consensus core. Time is counted in ticks; the runtime decides how long a tick is.
 *
 * @param id             this node's id
 * @param voters         the bootstrap configuration's voters: the configuration in effect until the log or a snapshot
 *                       says otherwise (a node that has a snapshot or a CONFIG entry ignores it). Empty for a node
 *                       that joins a running cluster: it waits, without campaigning, to be sent the log or a snapshot
 * @param electionTick   a follower that hears from no leader for a randomized [electionTick, 2*electionTick) ticks
 *                       starts an election; a CheckQuorum leader steps down after electionTick ticks without a quorum
 * @param heartbeatTick  the leader sends heartbeats every heartbeatTick ticks
 * @param maxMsgBytes    upper bound on the entry bytes of one AppendEntries
 * @param maxInflight    appends a leader may have unacknowledged per peer while replicating (pipelining)
 * @param maxApplyBytes  upper bound on the entry bytes handed to the state machine per Ready
 * @param preVote        run the PreVote phase before an election (dissertation 9.6)
 * @param checkQuorum    a leader steps down when it has not heard from a quorum for an election timeout, and
 *                       followers ignore vote requests while they hear from a leader (dissertation 6.2, 9.6)
 * @param applied        the state machine's lastApplied at start (entries up to it are not handed out again)
 * @param random         the source of election timeout jitter (seeded in tests)
 * @param maxInflightBytes bound on the entry bytes of a peer's unacknowledged appends, besides their number (0: no
 *                       bound): a follower far behind is fed in bounded steps, not a whole backlog at once
 */
public record RaftConfig(String id, List<String> voters, int electionTick, int heartbeatTick, long maxMsgBytes,
                         int maxInflight, long maxApplyBytes, boolean preVote, boolean checkQuorum, long applied,
                         Random random, long maxInflightBytes) {

    /** Without a byte bound on appends in flight. */
    public RaftConfig(String id, List<String> voters, int electionTick, int heartbeatTick, long maxMsgBytes,
                      int maxInflight, long maxApplyBytes, boolean preVote, boolean checkQuorum, long applied,
                      Random random) {
        this(id, voters, electionTick, heartbeatTick, maxMsgBytes, maxInflight, maxApplyBytes, preVote, checkQuorum,
                applied, random, 0);
    }

    public RaftConfig {
        if (id == null || id.isBlank()) {
            throw new IllegalArgumentException("node id is required");
        }
        voters = List.copyOf(voters);
        if (voters.stream().distinct().count() != voters.size()) {
            throw new IllegalArgumentException("duplicate voter ids in " + voters);
        }
        if (heartbeatTick < 1 || electionTick <= heartbeatTick) {
            throw new IllegalArgumentException("need 1 <= heartbeatTick < electionTick, got " + heartbeatTick + ", " + electionTick);
        }
        if (maxInflight < 1 || maxMsgBytes < 1 || maxApplyBytes < 1) {
            throw new IllegalArgumentException("maxInflight, maxMsgBytes and maxApplyBytes must be positive");
        }
        if (maxInflightBytes < 0) {
            throw new IllegalArgumentException("maxInflightBytes must not be negative (0: no bound)");
        }
        if (random == null) {
            throw new IllegalArgumentException("a random source is required");
        }
    }

    /** Sensible defaults: 10-tick election timeout, 1-tick heartbeats, PreVote and CheckQuorum on. */
    public static RaftConfig defaults(String id, List<String> voters, long applied, Random random) {
        return new RaftConfig(id, voters, 10, 1, 1 << 20, 256, 16 << 20, true, true, applied, random);
    }

    public RaftConfig withTicks(int election, int heartbeat) {
        return new RaftConfig(id, voters, election, heartbeat, maxMsgBytes, maxInflight, maxApplyBytes, preVote, checkQuorum, applied, random, maxInflightBytes);
    }

    public RaftConfig withPreVoteAndCheckQuorum(boolean pv, boolean cq) {
        return new RaftConfig(id, voters, electionTick, heartbeatTick, maxMsgBytes, maxInflight, maxApplyBytes, pv, cq, applied, random, maxInflightBytes);
    }

    public RaftConfig withLimits(long msgBytes, int inflight) {
        return new RaftConfig(id, voters, electionTick, heartbeatTick, msgBytes, inflight, maxApplyBytes, preVote, checkQuorum, applied, random, maxInflightBytes);
    }
}
