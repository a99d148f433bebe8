package io.raftkv.node;

/** A request that never reached the Raft log (the node was stopping, or gave up on it first): certainly no effect. */
public class NotProposedException extends RuntimeException {

    public NotProposedException(String message) {
        super(message);
    }
}
