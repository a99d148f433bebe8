package io.raftkv.node;

/** A write was refused before it was proposed because too many writes (or bytes) are in flight: certainly no effect. */
public class OverloadedException extends RuntimeException {

    public OverloadedException(String message) {
        super(message);
    }
}
