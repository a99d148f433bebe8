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
            throw new ProblemException(Problem.unavailable("the node is starting or stopping"));
        }
        return node;
    }

    /** The state machine, for stale reads (this node's own copy). */
    static KvStateMachine stateMachine(RaftkvServer server) {
        KvStateMachine sm = server.stateMachine();
        if (sm == null) {
            throw new ProblemException(Problem.unavailable("the node is starting or stopping"));
        }
        return sm;
    }
}
