package io.raftkv.node;

import io.raftkv.raft.RaftStatus;

import java.util.Map;

/**
 * What GET /v1/status reports: the core's view plus the node's URLs and state machine. {@code leaderSinceMillis}:
 * when this node learned of its current leader in the current term (on the leader: when it took office), epoch
 * milliseconds; 0 when no leader is known (or it was known from the start, before any change was seen).
 */
public record NodeStatus(RaftStatus raft, String url, String leaderUrl, Map<String, String> members, long keys,
                         long droppedPeerMessages, long leaderSinceMillis) {
}
