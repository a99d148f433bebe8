package io.raftkv.peer;

/**
 * What the peer channel reports for metrics: the round-trip time of each peer connection (a PING answered by a PONG
 * on the connection that carries the Raft messages, so it includes the peer's queueing) and the messages to a peer
 * that could not be sent (its queue overflowed, its connection failed with them queued, or a batch was too large).
 * Called on Vert.x event-loop threads: implementations must not block.
 */
public interface PeerStats {

    PeerStats NONE = new PeerStats() {
        @Override
        public void roundTrip(String peer, long nanos) {
        }

        @Override
        public void sendFailed(String peer, long messages) {
        }
    };

    void roundTrip(String peer, long nanos);

    void sendFailed(String peer, long messages);
}
