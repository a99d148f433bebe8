package io.raftkv.cli;

/** A command failed: the message for standard error and the exit status (see {@link Ctl} for the codes). */
public final class CtlException extends RuntimeException {

    private final int status;

    public CtlException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
