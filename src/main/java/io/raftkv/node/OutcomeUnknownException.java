package io.raftkv.node;

/**
 * A write was proposed, but the node stopped (shutdown, a full disk, a storage failure) before it learned whether the
 * entry committed: it may be on other members and be applied by the next leader. Not safe to retry blindly.
 */
public class OutcomeUnknownException extends RuntimeException {

    private final long index;
    private final long term;

    /** @param index the log index the write was given (0 if unknown), with {@code term} */
    public OutcomeUnknownException(String message, long index, long term, Throwable cause) {
        super(message, cause);
        this.index = index;
        this.term = term;
    }

    public long index() {
        return index;
    }

    public long term() {
        return term;
    }
}
