package io.raftkv.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * The leader's ReadIndex bookkeeping (dissertation 6.4): reads wait for a heartbeat round that a quorum answers, and
 * reads that arrive before the leader has committed an entry of its own term wait for that first. Every read
 * registered before the next Ready shares one round, identified by a context number the heartbeats carry.
 */
final class ReadIndexQueue {

    private record PendingRead(long requestId, long index, long context) {
    }

    private long context;
    private boolean roundPending;
    private final ArrayDeque<PendingRead> pending = new ArrayDeque<>();
    private final List<Long> awaitingCommit = new ArrayList<>();
    private List<ReadState> done = new ArrayList<>();

    /** The context of the latest round; heartbeats carry it. */
    long context() {
        return context;
    }

    /** Whether reads registered since the last flush need a heartbeat round; clears the flag. */
    boolean takeRoundPending() {
        boolean p = roundPending;
        roundPending = false;
        return p;
    }

    boolean roundPending() {
        return roundPending;
    }

    void fail(long requestId) {
        done.add(new ReadState(requestId, -1));
    }

    void awaitCommit(long requestId) {
        awaitingCommit.add(requestId);
    }

    /** Registers a read at {@code commitIndex}; a single-voter cluster confirms it at once. */
    void start(long requestId, long commitIndex, boolean singleVoter) {
        if (singleVoter) {
            done.add(new ReadState(requestId, commitIndex));
            return;
        }
        if (!roundPending) {
            context++;
            roundPending = true;
        }
        pending.add(new PendingRead(requestId, commitIndex, context));
    }

    /** The leader committed an entry of its term: reads waiting for that start now. */
    void releaseAwaitingCommit(long commitIndex, boolean singleVoter) {
        if (awaitingCommit.isEmpty()) {
            return;
        }
        List<Long> waiting = new ArrayList<>(awaitingCommit);
        awaitingCommit.clear();
        waiting.forEach(id -> start(id, commitIndex, singleVoter));
    }

    /** Confirms reads whose round a quorum of voters has answered ({@code quorumAcked} tells, per context). */
    void confirm(LongPredicate quorumAcked) {
        while (!pending.isEmpty()) {
            PendingRead r = pending.peekFirst();
            if (!quorumAcked.test(r.context())) {
                return;
            }
            pending.pollFirst();
            done.add(new ReadState(r.requestId(), r.index()));
        }
    }

    /** Leadership lost: every read still waiting fails. */
    void failAll() {
        for (PendingRead r : pending) {
            done.add(new ReadState(r.requestId(), -1));
        }
        for (long requestId : awaitingCommit) {
            done.add(new ReadState(requestId, -1));
        }
        pending.clear();
        awaitingCommit.clear();
        roundPending = false;
    }

    boolean hasReadStates() {
        return !done.isEmpty();
    }

    List<ReadState> takeReadStates() {
        List<ReadState> out = done;
        done = new ArrayList<>();
        return out;
    }
}
