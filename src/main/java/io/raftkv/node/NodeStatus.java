package io.raftkv.node;

import io.raftkv.raft.RaftStatus;

import java.util.Map;

/** What GET /v1/status reports: the core's view plus the node's URLs and state machine. */
public record NodeStatus(RaftStatus raft, String url, String leaderUrl, Map<String, String> members, long keys,
                         long droppedPeerMessages) {
}
