package io.raftkv.raft.sim;

/** A safety (or liveness) property of the cluster was violated. The message names the property and the step. */
public final class SafetyViolation extends RuntimeException {

    public SafetyViolation(String message) {
        super(message);
    }
}
