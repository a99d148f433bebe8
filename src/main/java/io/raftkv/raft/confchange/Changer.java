package io.raftkv.raft.confchange;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Configuration;

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
        }
        return new Configuration(voters, learners);
    }

    private static ConfChangeRefusedException invalid(String why) {
        return new ConfChangeRefusedException(ConfChangeRefusedException.Reason.INVALID, why);
    }
}
