package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.server.RaftkvServer;
import io.raftkv.statemachine.KvStateMachine;

/** The node the REST resources serve, or a 503 problem while it is starting or stopping. */
final class RunningNode {

    private RunningNode() {
    }

    static RaftNode of(RaftkvServer server) {
        RaftNode node = server.node();
        if (node == null) {
            throw new ProblemException(server.diskFull() != null ? diskFull(server) : Problem.unavailable("the node is starting or stopping"));
        }
        return node;
    }

    /** The state machine, for stale reads: served even while the node is stopped by a full disk. */
    static KvStateMachine stateMachine(RaftkvServer server) {
        KvStateMachine sm = server.stateMachine();
        if (sm == null) {
            throw new ProblemException(server.diskFull() != null ? diskFull(server) : Problem.unavailable("the node is starting or stopping"));
        }
        return sm;
    }

    /** 507: nothing is acknowledged until the node has disk space again (it then restarts by itself). */
    static jakarta.ws.rs.core.Response diskFull(RaftkvServer server) {
        return Problem.builder(507, "Insufficient Storage", "the disk of node " + server.nodeId() + " is full (" + server.diskFull()
                + "): it acknowledges no writes and serves no linearizable reads until space is freed; stale reads are"
                + " still served", null).header("Retry-After", "5").build();
    }
}
