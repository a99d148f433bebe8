package io.raftkv.transport;

/** A peer message body that does not decode; the whole batch is rejected. */
public class MalformedMessageException extends RuntimeException {
    public MalformedMessageException(String message) {
        super(message);
    }
}
