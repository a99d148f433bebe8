package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.server.RaftkvServer;

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
}
