package io.raftkv.transport;

/** What a peer said of this node's messages: accepted, or refused (why), for the runtime's status. */
public interface PeerAnswers {
    PeerAnswers NONE = new PeerAnswers() {
    };

    default void accepted(String peerId) {
    }

    default void refused(String peerId, String reason, String detail) {
    }
}
