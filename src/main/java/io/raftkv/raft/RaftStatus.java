package io.raftkv.raft;

import java.util.Map;

/** A snapshot of a node's consensus state for operators (GET /v1/status) and tests. */
public record RaftStatus(String id, Role role, long term, String votedFor, String leader, long commitIndex,
                         long lastApplied, long firstIndex, long lastIndex, long lastTerm,
                         Map<String, PeerProgress> peers) {

    /** The leader's view of one peer (empty on followers). */
    public record PeerProgress(long matchIndex, long nextIndex, String state, boolean recentActive) {
    }
}
