package io.raftkv.node;

import io.raftkv.raft.ConfigEntry;

/**
 * What a {@link RaftNode} tells the runtime about membership changes, and asks it. Called on the node's loop thread:
 * quick, never blocking on the network.
 */
public interface MembershipListener {

    MembershipListener NONE = new MembershipListener() {
    };

    /** A configuration entry is now durable in this node's log (it is in effect, though not yet committed). */
    default void appended(ConfigEntry entry) {
    }

    /** A configuration entry was committed and applied here. */
    default void applied(ConfigEntry entry) {
    }

    /** An IDENTITY entry (a member's incarnation, registered by a leader) was committed and applied here. */
    default void identityApplied(long index, byte[] data) {
    }

    /** Leader only: whether a learner that has caught up is to be promoted to voter now. */
    default boolean autoPromote(String learnerId) {
        return false;
    }
}
