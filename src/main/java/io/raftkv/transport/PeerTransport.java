package io.raftkv.transport;

import io.raftkv.raft.Message;

import java.util.List;

/**
 * Delivers messages to peers. Best effort: Raft tolerates loss, duplication and reordering, so a transport may drop
 * messages (a peer is down, a queue is full) but must never block the caller on a slow or dead peer.
 */
public interface PeerTransport extends AutoCloseable {

    /** Queues messages for delivery (each to its {@link Message#to()}) and returns at once. */
    void send(List<Message> messages);

    @Override
    void close();
}
