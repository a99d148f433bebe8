package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.server.RaftkvServer;
import io.raftkv.statemachine.KvStateMachine;
import jakarta.ws.rs.core.Response;

/**
 * The node the REST resources serve, or a problem answer while there is none: 507 while its disk is full (the node
 * waits for space), 503 while it is starting or stopping.
 */
final class RunningNode {

    private RunningNode() {
    }

    static RaftNode of(RaftkvServer server) {
        RaftNode node = server.node();
        if (node == null) {
            String full = server.diskFull();
            throw new ProblemException(full != null ? diskFull(server, full) : Problem.unavailable("the node is starting or stopping"));
        }
        return node;
    }

    /** The state machine, for stale reads (this node's own copy): served while the disk is full too. */
    static KvStateMachine stateMachine(RaftkvServer server) {
        KvStateMachine sm = server.stateMachine();
        if (sm == null) {
            throw new ProblemException(Problem.unavailable("the node is starting or stopping, or its KV store is"
                    + " being rebuilt"));
        }
        return sm;
    }

    /** 507 Insufficient Storage: nothing is acknowledged until the node has space again; it resumes by itself. */
    static Response diskFull(RaftkvServer server, String why) {
        return Problem.builder(507, "Insufficient Storage", "the disk of node " + server.nodeId() + " is full (" + why
                + "): it acknowledges no writes and serves no linearizable reads until space is freed, then resumes by"
                + " itself; stale reads are still served", null).header("Retry-After", "5").build();
    }
}
