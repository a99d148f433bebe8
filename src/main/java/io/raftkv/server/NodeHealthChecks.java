package io.raftkv.server;

import io.raftkv.node.RaftNode;
import io.raftkv.raft.Role;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * Quarkus health: /q/health/live is up while the node runs (or waits for disk space); /q/health/ready is up when the node knows a leader and
 * has applied (nearly) everything it knows to be committed, i.e. it can serve and has caught up.
 */
public final class NodeHealthChecks {

    /** Entries a node may lag behind its known commit index and still count as caught up. */
    static final long MAX_APPLY_LAG = 1000;

    private NodeHealthChecks() {
    }

    @Liveness
    @ApplicationScoped
    public static class Live implements HealthCheck {
        @Inject
        RaftkvServer server;

        @Override
        public HealthCheckResponse call() {
            // A node waiting for disk space is alive (it serves stale reads and resumes by itself): restarting it would
            // not free any space.
            RaftNode node = server.node();
            var r = HealthCheckResponse.named("raft-node").status(node != null || server.diskFull() != null)
                    .withData("id", server.nodeId());
            if (server.diskFull() != null) {
                r.withData("diskFull", server.diskFull());
            }
            return r.build();
        }
    }

    @Readiness
    @ApplicationScoped
    public static class Ready implements HealthCheck {
        @Inject
        RaftkvServer server;

        @Override
        public HealthCheckResponse call() {
            RaftNode node = server.node();
            if (node == null) {
                var r = HealthCheckResponse.named("raft-cluster").down();
                if (server.diskFull() != null) {
                    r.withData("diskFull", server.diskFull());
                }
                return r.build();
            }
            String leader = node.leaderId();
            long lag = node.commitIndex() - node.lastApplied();
            boolean up = leader != null && lag <= MAX_APPLY_LAG;
            return HealthCheckResponse.named("raft-cluster").status(up)
                    .withData("role", node.role().name().toLowerCase())
                    .withData("leader", leader == null ? "none" : leader)
                    .withData("term", node.term())
                    .withData("commitIndex", node.commitIndex())
                    .withData("lastApplied", node.lastApplied())
                    .withData("isLeader", node.role() == Role.LEADER)
                    .build();
        }
    }
}
