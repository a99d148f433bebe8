package io.raftkv.raft;

/**
 * The answer to a ReadIndex request: once the state machine has applied {@code readIndex}, a read reflects every write
 * acknowledged before the request. {@code readIndex == -1} means the request failed (this node is not, or stopped
 * being, the leader) and the client should retry at the leader.
 */
public record ReadState(long requestId, long readIndex) {

    public boolean failed() {
        return readIndex < 0;
    }
}
