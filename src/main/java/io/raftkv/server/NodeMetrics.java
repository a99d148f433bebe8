package io.raftkv.server;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Role;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import java.util.function.ToDoubleFunction;

/** Raft gauges on /q/metrics (Prometheus): term, commit index, last applied, leadership, snapshots, disk use. */
@ApplicationScoped
public class NodeMetrics {

    @Inject
    MeterRegistry registry;

    @Inject
    RaftkvServer server;

    void register(@Observes @Priority(2000) StartupEvent event) {
        gauge("raftkv_term", "current Raft term", RaftNode::term);
        gauge("raftkv_commit_index", "highest log index known to be committed", RaftNode::commitIndex);
        gauge("raftkv_last_applied", "highest log index applied to the state machine", RaftNode::lastApplied);
        gauge("raftkv_server_is_leader", "1 if this node is the leader", n -> n.role() == Role.LEADER ? 1 : 0);
        gauge("raftkv_snapshot_index", "log index of the newest snapshot", RaftNode::snapshotIndex);
        Gauge.builder("raftkv_snapshot_size_bytes", server, s -> s.snapshots() == null ? Double.NaN : s.snapshots().latestSizeBytes())
                .description("size of the newest snapshot file").register(registry);
        Gauge.builder("raftkv_snapshots_received_total", server, s -> s.snapshots() == null ? Double.NaN : s.snapshots().receivedSnapshot())
                .description("snapshots received from a leader since start").register(registry);
        Gauge.builder("raftkv_log_first_index", server, RaftkvServer::logFirstIndex)
                .description("first index the raft log holds (moves with compaction)").register(registry);
        Gauge.builder("raftkv_log_bytes", server, RaftkvServer::logBytesOnDisk)
                .description("bytes of the raft log's files").register(registry);
        Gauge.builder("raftkv_kv_bytes", server, s -> s.stateMachine() == null ? Double.NaN : s.stateMachine().sizeOnDiskBytes())
                .description("bytes of kv.db").register(registry);
        Gauge.builder("raftkv_disk_full", server, s -> s.diskFull() == null ? 0 : 1)
                .description("1 while the node has stopped acknowledging writes because its disk is (nearly) full").register(registry);
        Gauge.builder("raftkv_disk_full_episodes_total", server, RaftkvServer::diskFullEpisodes)
                .description("times the node stopped for a full disk since it started").register(registry);
        Gauge.builder("raftkv_disk_free_bytes", server, s -> s.diskSpace() == null ? Double.NaN : s.diskSpace().usableBytes())
                .description("bytes free on the data directory's file system").register(registry);
        Gauge.builder("raftkv_peer_messages_dropped", server, s -> s.droppedPeerMessages())
                .description("peer messages dropped because a peer's queue was full").register(registry);
        for (String reason : new String[] {"certificate", "member", "target", "forged", "malformed", "misaddressed",
                "frame_too_large", "tls", "no_hello"}) {
            io.micrometer.core.instrument.FunctionCounter.builder("raftkv_peer_rejections", server,
                            s -> s.peerRejections().getOrDefault(reason, 0L))
                    .description("peer connections, batches and chunks the peer listener refused, by reason")
                    .tag("reason", reason).register(registry);
        }
        // Named after etcd's etcd_server_* metrics where they mean the same.
        gauge("raftkv_server_has_leader", "1 if this node knows a leader (itself included)", n -> n.leaderId() == null ? 0 : 1);
        gauge("raftkv_server_proposals_pending", "client writes in flight on this node (queued, proposed, not yet answered)",
                RaftNode::pendingWrites);
        gauge("raftkv_server_proposals_committed_total", "entries committed (the commit index)", RaftNode::commitIndex);
        gauge("raftkv_server_proposals_applied_total", "entries applied (the last applied index)", RaftNode::lastApplied);
        Gauge.builder("raftkv_client_sessions", server, s -> s.stateMachine() == null ? Double.NaN : s.stateMachine().sessionCount())
                .description("client sessions kept by the state machine (exactly-once writes)").register(registry);
        server.observe(new Observer());
        server.peerStats(new PeerMeters());
    }

    /** The peer channel's figures, per peer ({@code To}, as etcd labels them): round trips and messages not sent. */
    private final class PeerMeters implements io.raftkv.peer.PeerStats {
        private final java.util.concurrent.ConcurrentHashMap<String, io.micrometer.core.instrument.Timer> rtt =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.ConcurrentHashMap<String, io.micrometer.core.instrument.Counter> failures =
                new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void roundTrip(String peer, long nanos) {
            rtt.computeIfAbsent(peer, p -> io.micrometer.core.instrument.Timer.builder("raftkv_network_peer_round_trip_time")
                    .tag("To", p).description("round trip of a PING on the connection that carries the Raft messages to a peer")
                    .publishPercentileHistogram().register(registry))
                    .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        @Override
        public void sendFailed(String peer, long messages) {
            failures.computeIfAbsent(peer, p -> io.micrometer.core.instrument.Counter.builder("raftkv_network_peer_sent_failures")
                    .tag("To", p).description("messages to a peer that could not be sent (no connection, a full queue)")
                    .register(registry)).increment(messages);
        }
    }

    /** The node's reports as Micrometer meters: the ones worth alerting on, named after etcd's where they match. */
    private final class Observer implements io.raftkv.node.NodeObserver {
        private final io.micrometer.core.instrument.Timer fsync = io.micrometer.core.instrument.Timer
                .builder("raftkv_disk_wal_fsync_duration").description("durable writes of the raft log (one fdatasync each)")
                .publishPercentileHistogram().register(registry);
        private final io.micrometer.core.instrument.Timer apply = io.micrometer.core.instrument.Timer
                .builder("raftkv_apply_duration").description("applying a batch of committed entries to the state machine")
                .publishPercentileHistogram().register(registry);
        private final io.micrometer.core.instrument.Timer backendCommit = io.micrometer.core.instrument.Timer
                .builder("raftkv_disk_backend_commit_duration").description("commits of the state machine's store (kv.db)")
                .publishPercentileHistogram().register(registry);
        private final io.micrometer.core.instrument.Counter failed = io.micrometer.core.instrument.Counter
                .builder("raftkv_server_proposals_failed").description("client writes that did not end acknowledged")
                .register(registry);
        private final io.micrometer.core.instrument.Timer snapshot = io.micrometer.core.instrument.Timer
                .builder("raftkv_snapshot_duration").description("taking a snapshot, from its start until it is durable")
                .register(registry);
        private final io.micrometer.core.instrument.Counter leaderChanges = io.micrometer.core.instrument.Counter
                .builder("raftkv_server_leader_changes_seen").description("changes of the leader this node knows").register(registry);
        private final io.micrometer.core.instrument.Counter logBytes = io.micrometer.core.instrument.Counter
                .builder("raftkv_log_written_entry_bytes").description("entry bytes written to the raft log").register(registry);
        private final java.util.concurrent.ConcurrentHashMap<String, io.micrometer.core.instrument.Counter> proposals =
                new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public void logSaved(long nanos, int entries, long bytes) {
            fsync.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
            logBytes.increment(bytes);
        }

        @Override
        public void applied(int entries, long nanos) {
            apply.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        @Override
        public void leaderChanged(String leader, long term) {
            leaderChanges.increment();
        }

        @Override
        public void proposalEnded(String outcome) {
            proposals.computeIfAbsent(outcome, o -> io.micrometer.core.instrument.Counter.builder("raftkv_proposals")
                    .tag("outcome", o).description("client writes by how they ended").register(registry)).increment();
            if (!"ok".equals(outcome)) {
                failed.increment();
            }
        }

        @Override
        public void backendCommitted(long nanos) {
            backendCommit.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        @Override
        public void snapshotTaken(long nanos) {
            snapshot.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    private void gauge(String name, String help, ToDoubleFunction<RaftNode> f) {
        Gauge.builder(name, server, s -> s.node() == null ? Double.NaN : f.applyAsDouble(s.node()))
                .description(help).register(registry);
    }
}
