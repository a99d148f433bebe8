package io.raftkv.peer;

/**
 * What the listener asks of the node: whether a connection, a batch or a chunk is taken. The listener does the
 * framing and TLS; the gate decides (membership, cluster and incarnation, Raft's rules) and hands what it takes to
 * the node.
 */
public interface PeerGate {

    /**
     * A connection's HELLO. {@code certifiedId} is the node id in the client's certificate, already checked to be
     * {@code hello.from()} (null without TLS, where the claimed id is all there is). Null: accepted; else the refusal sent before the connection is closed.
     */
    PeerFrames.Refused hello(String certifiedId, PeerFrames.Hello hello);

    /** A batch from {@code sender} (accepted at HELLO). Null: taken; else the refusal sent back. Event loop: no blocking. */
    PeerFrames.Refused messages(String sender, PeerFrames.Messages batch);

    /** One snapshot chunk from {@code sender}; runs on a worker thread (it writes to disk). */
    PeerFrames.ChunkReply chunk(String sender, PeerFrames.Chunk chunk);

    /** The listener refused a connection on its own (bad TLS, a frame too large, garbage): counted. */
    default void rejected(String reason, String detail) {
    }
}
