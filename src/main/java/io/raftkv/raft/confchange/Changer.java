package io.raftkv.raft.confchange;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.confchange.ConfChangeRefusedException.Reason;

import java.util.ArrayList;
import java.util.List;

/**
 * Validates one {@link ConfChange} against a configuration and computes the configuration it leads to. Only
 * single-server changes exist: each adds a learner, promotes one, or removes one member, so the voter sets before and
 * after differ by at most one server and every majority of one overlaps every majority of the other (dissertation
 * 4.2). A change that would leave no voter is refused: nobody could elect a leader again.
 */
public final class Changer {

    private Changer() {
    }

    /**
     * The leader's admission rules for a change, then {@link #apply}. A change waits (CHANGE_PENDING) while the
     * previous one is uncommitted: two uncommitted single-server changes could add up to a two-server change. It also
     * waits (LEADER_NOT_READY) until the leader has committed an entry of its own term: until then its log may lack a
     * change an earlier leader appended and a later leader may still commit, and a change of its own on top of an
     * older configuration would again differ from that one by two servers (Ongaro, raft-dev, 2015). No change is taken
     * while leadership is being transferred away.
     *
     * @param lastChangeIndex index of the last CONFIG entry in the leader's log (0 if none)
     * @param committedInTerm the leader's commit index is at an entry of its own term
     * @param transferee      the server leadership is being handed to, or null
     */
    public static Configuration admit(Configuration current, ConfChange change, long lastChangeIndex, long commitIndex,
                                      boolean committedInTerm, String transferee) {
        if (transferee != null) {
            throw new ConfChangeRefusedException(Reason.TRANSFERRING_LEADERSHIP, "leadership is being transferred to " + transferee);
        }
        if (lastChangeIndex > commitIndex) {
            throw new ConfChangeRefusedException(Reason.CHANGE_PENDING, "the change at index " + lastChangeIndex
                    + " is not committed yet (commit index " + commitIndex + ")");
        }
        if (change.type() == ConfChange.Type.FORCE_NEW_CLUSTER) {
            throw invalid("a forced new cluster is not proposed: it is written at start by raftkv.force-new-cluster=true");
        }
        if (!committedInTerm) {
            throw new ConfChangeRefusedException(Reason.LEADER_NOT_READY, "the leader has not committed an entry of its term yet");
        }
        return apply(current, change);
    }

    /** The configuration after {@code change}; throws {@link ConfChangeRefusedException} (INVALID) if it does not apply. */
    public static Configuration apply(Configuration c, ConfChange change) {
        String id = change.nodeId();
        List<String> voters = new ArrayList<>(c.voters());
        List<String> learners = new ArrayList<>(c.learners());
        switch (change.type()) {
            case ADD_LEARNER -> {
                if (c.isMember(id)) {
                    throw invalid(id + " is already a " + (c.isVoter(id) ? "voter" : "learner"));
                }
                learners.add(id);
            }
            case PROMOTE -> {
                if (!c.isLearner(id)) {
                    throw invalid(id + " is not a learner (" + c + "): add it as a learner first");
                }
                learners.remove(id);
                voters.add(id);
            }
            case REMOVE -> {
                if (!c.isMember(id)) {
                    throw invalid(id + " is not a member (" + c + ")");
                }
                if (voters.remove(id) && voters.isEmpty()) {
                    throw invalid("removing " + id + " would leave no voter");
                }
                learners.remove(id);
            }
            case FORCE_NEW_CLUSTER -> {
                voters = List.of(id);
                learners = List.of();
            }
        }
        return new Configuration(voters, learners);
    }

    private static ConfChangeRefusedException invalid(String why) {
        return new ConfChangeRefusedException(ConfChangeRefusedException.Reason.INVALID, why);
    }
}
