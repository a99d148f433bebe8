package io.raftkv.node;

/**
 * A write was proposed, but the node stopped (shutdown, a full disk, a storage failure) before it learned whether the
 * entry committed: it may be on other members and be applied by the next leader. Not safe to retry blindly.
 */
public class OutcomeUnknownException extends RuntimeException {

    public OutcomeUnknownException(String message, Throwable cause) {
        super(message, cause);
    }
}
