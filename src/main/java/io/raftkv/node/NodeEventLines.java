package io.raftkv.node;

import io.raftkv.events.EventLog;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;

import java.util.List;

/** The lines a {@link RaftNode} writes to its event log about elections and leaders, and how writes ended. */
final class NodeEventLines {

    private NodeEventLines() {
    }

    /** Term, role and leader changes between two soft states. */
    static void roleChanged(EventLog events, NodeSettings settings, Ready.SoftState before, Ready.SoftState now) {
        if (now.term() != before.term()) {
            events.log("term is now " + now.term() + " (was " + before.term() + ")");
        }
        if (now.role() != before.role()) {
            switch (now.role()) {
                case PRE_CANDIDATE -> events.log("no leader heard: pre-vote for term " + (now.term() + 1) + " started");
                case CANDIDATE -> events.log("election started for term " + now.term() + ", voting for myself");
                case LEADER -> events.log("became leader for term " + now.term());
                case FOLLOWER -> events.log(before.role() == Role.LEADER
                        ? "stepped down: follower in term " + now.term() + " (was leader)"
                        : "became follower in term " + now.term() + " (was " + before.role().name().toLowerCase() + ")");
            }
        }
        if (now.leader() != null && (!now.leader().equals(before.leader()) || now.term() != before.term())) {
            events.log("leader is now: " + now.leader() + " (" + settings.url(now.leader()) + "), term " + now.term());
        } else if (now.leader() == null && before.leader() != null && !before.leader().equals(settings.id())) {
            events.log("lost contact with leader " + before.leader() + " in term " + now.term());
        }
    }

    /** The votes this node grants, from the messages it is about to send. */
    static void votesGranted(EventLog events, List<Message> messages) {
        for (Message m : messages) {
            if (m.type() == MessageType.VOTE_RESPONSE && !m.reject()) {
                events.log("vote granted to " + m.to() + " for term " + m.term());
            }
        }
    }

    /** How a client write ended, for {@link NodeObserver#proposalEnded}. */
    static String outcome(Throwable err) {
        Throwable e = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
        if (e == null) {
            return "ok";
        }
        if (e instanceof NotLeaderException) {
            return "not-leader";
        }
        if (e instanceof ProposalLostException) {
            return "lost";
        }
        if (e instanceof OverloadedException) {
            return "overloaded";
        }
        if (e instanceof NotProposedException) {
            return "not-proposed";
        }
        if (e instanceof io.raftkv.storage.DiskFullException) {
            return "disk-full";
        }
        return "unknown";
    }

}
