package io.raftkv.raft;

import java.util.Objects;

/**
 * The state Raft requires on stable storage before a node answers any RPC: currentTerm and votedFor. The commit index
 * is kept too (not required for safety) so a restarted node can re-apply committed entries without waiting.
 */
public record HardState(long term, String votedFor, long commit) {

    public static final HardState EMPTY = new HardState(0, null, 0);

    public boolean isEmpty() {
        return term == 0 && votedFor == null && commit == 0;
    }

    public boolean sameAs(HardState o) {
        return o != null && term == o.term && commit == o.commit && Objects.equals(votedFor, o.votedFor);
    }
}
