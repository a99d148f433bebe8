package io.raftkv.node;

/**
 * What a {@link RaftNode} reports as it works, for metrics. Called on the node's own threads (mostly its loop), so an
 * implementation must be quick and must not block. Every method does nothing by default.
 */
public interface NodeObserver {

    NodeObserver NONE = new NodeObserver() {
    };

    /** One durable write of the log (term, vote and entries; one fdatasync): its duration and what it held. */
    default void logSaved(long nanos, int entries, long bytes) {
    }

    /** Committed entries applied to the state machine in one go. */
    default void applied(int entries, long nanos) {
    }

    /** The known leader changed ({@code leader} null: none known). */
    default void leaderChanged(String leader, long term) {
    }

    /** A client write ended: {@code outcome} is ok, not-leader, lost, overloaded, not-proposed, disk-full or unknown. */
    default void proposalEnded(String outcome) {
    }

    /** A snapshot was taken (written and synced). */
    /** The state machine's store committed its applied state (MapDB's commit of kv.db). */
    default void backendCommitted(long nanos) {
    }

    default void snapshotTaken(long nanos) {
    }
}
