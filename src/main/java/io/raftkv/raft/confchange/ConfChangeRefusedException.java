package io.raftkv.raft.confchange;

/**
 * A leader refused a configuration change. {@link #reason()} tells the runtime how to answer: every reason but
 * {@link Reason#INVALID} is about timing (HTTP 409: retry later), INVALID about the request itself.
 */
public final class ConfChangeRefusedException extends RuntimeException {

    public enum Reason {
        /** An earlier change is not committed yet: one change at a time. */
        CHANGE_PENDING,
        /**
         * This leader has not yet committed an entry of its own term, so it may not know of a change an earlier
         * leader started (Ongaro's raft-dev correction to single-server changes).
         */
        LEADER_NOT_READY,
        /** Leadership is being handed to another server. */
        TRANSFERRING_LEADERSHIP,
        /** The change does not apply to the current configuration (e.g. promoting a non-learner). */
        INVALID
    }

    private final Reason reason;

    public ConfChangeRefusedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
