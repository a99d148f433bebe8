package io.raftkv.node;

/** This node cannot serve the request because it is not the leader; {@code leaderId} is null when none is known. */
public final class NotLeaderException extends RuntimeException {

    private final String leaderId;

    public NotLeaderException(String leaderId) {
        super(leaderId == null ? "no leader is known" : "the leader is " + leaderId);
        this.leaderId = leaderId;
    }

    public String leaderId() {
        return leaderId;
    }
}
