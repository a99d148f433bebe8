package io.raftkv.node;

/**
 * A proposal's log slot was taken by another leader's entry: the command was not applied and may be retried. (A
 * proposal whose outcome is unknown, e.g. on timeout, is reported by a timeout instead.)
 */
public final class ProposalLostException extends RuntimeException {
    public ProposalLostException(long index, long proposedTerm, long appliedTerm) {
        super("entry " + index + " of term " + proposedTerm + " was replaced by an entry of term " + appliedTerm + " after a leader change");
    }
}
