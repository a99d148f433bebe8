package io.raftkv.raft;

import java.util.Map;

/**
 * A snapshot of a node's consensus state for operators (GET /v1/status), the runtime and tests.
 *
 * @param configuration        the configuration in effect on this node (that of the last CONFIG entry in its log)
 * @param configChangePending  leader only: a CONFIG entry is not committed yet, so no new change is accepted
 * @param peers                leader only: its view of every other member, voters and learners (empty elsewhere);
 *                             a learner whose matchIndex has reached the leader's commit index is caught up
 */
public record RaftStatus(String id, Role role, long term, String votedFor, String leader, long commitIndex,
                         long lastApplied, long firstIndex, long lastIndex, long lastTerm,
                         Map<String, PeerProgress> peers, Configuration configuration, boolean configChangePending) {

    /** The leader's view of one member. */
    public record PeerProgress(long matchIndex, long nextIndex, String state, boolean recentActive) {
    }
}
