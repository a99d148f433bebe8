package io.raftkv.node;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Runtime parameters of one node, independent of how they were configured.
 *
 * @param id                 this node's id
 * @param members            how to reach every member (this node included): a live view, see MemberDirectory
 * @param tick               the length of one logical tick of the Raft core
 * @param heartbeatTicks     ticks between leader heartbeats
 * @param electionTicks      the base election timeout in ticks (randomized up to twice that)
 * @param requestTimeout     how long a client write or read waits for commit before failing with a timeout
 * @param applyFlushInterval how often applied state is made durable (entries are durable in the log before that;
 *                           a crash replays the tail)
 * @param maxMsgBytes        entry bytes per AppendEntries
 * @param maxInflight        unacknowledged AppendEntries per peer
 * @param snapshotEntries    take a snapshot once this many entries were applied since the last one ...
 * @param snapshotBytes      ... or once this many bytes of entries were written to the log since the last one
 * @param logMargin          entries kept in the log behind a snapshot, so a briefly lagging follower catches up from
 *                           the log rather than by a whole snapshot
 * @param maxPendingWrites   writes proposed (or queued to be) and not yet answered; beyond it a write is refused
 *                           before it is proposed (backpressure)
 * @param maxPendingBytes    ... and the same bound on their command bytes
 * @param bootstrapVoters    the voters of a cluster that has no configuration in its log or snapshot yet (its first
 *                           start); empty for a node that joins a running cluster (it waits to be added)
 */
public record NodeSettings(String id, Map<String, URI> members, Duration tick, int heartbeatTicks, int electionTicks,
                           Duration requestTimeout, Duration applyFlushInterval, long maxMsgBytes, int maxInflight,
                           long snapshotEntries, long snapshotBytes, long logMargin, int maxPendingWrites,
                           long maxPendingBytes, List<String> bootstrapVoters) {

    public NodeSettings {
        // Not copied: the runtime may pass a live view that grows as members are added.
        java.util.Objects.requireNonNull(members, "members");
        bootstrapVoters = List.copyOf(bootstrapVoters);
        if (snapshotEntries < 1 || snapshotBytes < 1 || logMargin < 0) {
            throw new IllegalArgumentException("snapshot thresholds must be positive and the log margin not negative");
        }
        if (maxPendingWrites < 1 || maxPendingBytes < 1) {
            throw new IllegalArgumentException("the bounds on pending writes must be positive");
        }
        if (!members.containsKey(id)) {
            throw new IllegalArgumentException("node id '" + id + "' is not among the members " + members.keySet());
        }
    }

    public List<String> memberIds() {
        return members.keySet().stream().sorted().toList();
    }

    public URI url(String nodeId) {
        return nodeId == null ? null : members.get(nodeId);
    }
}
