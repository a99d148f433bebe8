package io.raftkv.node;

import io.raftkv.events.EventLog;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Raft;
import io.raftkv.raft.Role;
import io.raftkv.raft.confchange.ConfChangeRefusedException;

import java.util.function.Supplier;

/**
 * A leader's promotion of caught-up learners, part of a {@link RaftNode}'s periodic housekeeping on its loop thread: a
 * learner whose log has reached the commit index is promoted to voter (one change at a time), unless the
 * {@link MembershipListener} keeps it a learner. Refusals (a change pending, the leader not ready) wait for the next
 * round.
 */
final class LearnerPromotion {

    private final Raft raft;
    private final EventLog events;
    private final Supplier<MembershipListener> membership;

    LearnerPromotion(Raft raft, EventLog events, Supplier<MembershipListener> membership) {
        this.raft = raft;
        this.events = events;
        this.membership = membership;
    }

    /** Proposes the promotion of the first caught-up learner, if this node leads and no change is pending. */
    void promoteCaughtUp() {
        if (raft.role() != Role.LEADER || raft.configChangePending()) {
            return;
        }
        var status = raft.status();
        for (String learner : status.configuration().learners()) {
            var p = status.peers().get(learner);
            if (p == null || p.matchIndex() < status.commitIndex() || !membership.get().autoPromote(learner)) {
                continue;
            }
            try {
                if (raft.proposeConfChange(ConfChange.promote(learner)) != null) {
                    events.log("promoting learner " + learner + ": caught up at index " + p.matchIndex());
                }
            } catch (ConfChangeRefusedException refused) {
                // not now: next round
            }
            return;
        }
    }
}
