package io.raftkv.raft;

import java.util.ArrayDeque;

/**
 * The leader's view of one peer's log (Raft paper: nextIndex and matchIndex), plus the flow control state that lets
 * the leader pipeline AppendEntries: PROBE sends one message at a time until the peer's log position is found;
 * REPLICATE sends optimistically, up to {@code maxInflight} unacknowledged messages; SNAPSHOT waits while the peer
 * receives a snapshot (the entries it needs are compacted away) and sends nothing else until it reports back.
 */
public final class Progress {

    public enum State { PROBE, REPLICATE, SNAPSHOT }

    long matchIndex;
    long nextIndex;
    State state = State.PROBE;
    /** PROBE: an append is outstanding; wait for a response or the next heartbeat response. */
    boolean probeSent;
    /** REPLICATE: the last index of each unacknowledged append. */
    final ArrayDeque<Long> inflight = new ArrayDeque<>();
    private final int maxInflight;
    /** Heard from since the last CheckQuorum round. */
    boolean recentActive;
    /** Highest ReadIndex context this peer acknowledged in the current term. */
    long readAck;
    /** matchIndex at the previous heartbeat response, and how many rounds it has not moved while appends are out. */
    long lastHeartbeatMatch = -1;
    int stalledRounds;
    /** SNAPSHOT: the index of the snapshot being sent. */
    long pendingSnapshot;

    Progress(long nextIndex, int maxInflight) {
        this.nextIndex = nextIndex;
        this.maxInflight = maxInflight;
    }

    public long matchIndex() {
        return matchIndex;
    }

    public long nextIndex() {
        return nextIndex;
    }

    public State state() {
        return state;
    }

    boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflight.size() >= maxInflight;
            case SNAPSHOT -> true;
        };
    }

    void becomeProbe() {
        // After a snapshot, probe from just past it: the peer holds everything up to it (or reports otherwise).
        nextIndex = state == State.SNAPSHOT ? Math.max(matchIndex + 1, pendingSnapshot + 1) : matchIndex + 1;
        state = State.PROBE;
        probeSent = false;
        stalledRounds = 0;
        pendingSnapshot = 0;
        inflight.clear();
    }

    void becomeSnapshot(long snapshotIndex) {
        state = State.SNAPSHOT;
        pendingSnapshot = snapshotIndex;
        probeSent = false;
        stalledRounds = 0;
        inflight.clear();
    }

    /** A failed snapshot transfer: the peer got nothing, so probe again from what it is known to hold. */
    void snapshotFailed() {
        pendingSnapshot = 0;
        becomeProbe();
    }

    void becomeReplicate() {
        pendingSnapshot = 0;
        state = State.REPLICATE;
        probeSent = false;
        inflight.clear();
        nextIndex = matchIndex + 1;
    }

    /** A successful append response up to {@code index}; returns true if it told us something new. */
    boolean maybeUpdate(long index) {
        boolean updated = false;
        if (index > matchIndex) {
            matchIndex = index;
            updated = true;
            probeSent = false;
        }
        nextIndex = Math.max(nextIndex, index + 1);
        while (!inflight.isEmpty() && inflight.peekFirst() <= index) {
            inflight.pollFirst();
        }
        return updated;
    }

    /**
     * A rejection of the append whose prevLogIndex was {@code rejected}; {@code candidateNext} is where the conflict
     * hint says to try next. Returns false if the rejection is stale.
     */
    boolean maybeDecrTo(long rejected, long candidateNext) {
        if (state == State.REPLICATE) {
            if (rejected <= matchIndex) {
                return false;
            }
            becomeProbe();
            nextIndex = Math.max(matchIndex + 1, Math.min(candidateNext, rejected));
            return true;
        }
        if (nextIndex - 1 != rejected) {
            return false;
        }
        nextIndex = Math.max(matchIndex + 1, Math.min(candidateNext, rejected));
        probeSent = false;
        return true;
    }

    void sentEntries(long lastIndex) {
        if (state == State.REPLICATE) {
            nextIndex = lastIndex + 1;
            inflight.addLast(lastIndex);
        } else {
            probeSent = true;
        }
    }

    @Override
    public String toString() {
        return state + "{match=" + matchIndex + ", next=" + nextIndex + ", inflight=" + inflight.size() + "}";
    }
}
