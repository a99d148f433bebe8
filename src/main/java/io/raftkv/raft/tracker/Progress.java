package io.raftkv.raft.tracker;

import java.util.ArrayDeque;

/**
 * The leader's view of one member's log (Raft paper: nextIndex and matchIndex), plus the flow control state that lets
 * the leader pipeline AppendEntries: PROBE sends one message at a time until the member's log position is found;
 * REPLICATE sends optimistically, up to {@code maxInflight} unacknowledged messages holding up to
 * {@code maxInflightBytes} of entries (so a member far behind is fed in bounded steps); SNAPSHOT waits while the member
 * receives a snapshot (the entries it needs are compacted away) and sends nothing else until it reports back.
 * Learners have a Progress like voters: they are replicated to the same way, they just never count for a quorum.
 */
public final class Progress {

    public enum State { PROBE, REPLICATE, SNAPSHOT }

    private long matchIndex;
    private long nextIndex;
    private State state = State.PROBE;
    /** PROBE: an append is outstanding; wait for a response or the next heartbeat response. */
    private boolean probeSent;
    /** REPLICATE: the last index and the entry bytes of each unacknowledged append. */
    private final ArrayDeque<long[]> inflight = new ArrayDeque<>();
    private long inflightBytes;
    private final int maxInflight;
    private final long maxInflightBytes;
    /** Heard from since the last CheckQuorum round. */
    private boolean recentActive;
    /** Highest ReadIndex context this member acknowledged in the current term. */
    private long readAck;
    /** matchIndex at the previous heartbeat response, and how many rounds it has not moved while appends are out. */
    private long lastHeartbeatMatch = -1;
    private int stalledRounds;
    /** SNAPSHOT: the index of the snapshot being sent. */
    private long pendingSnapshot;

    /** @param maxInflightBytes bound on the entry bytes of unacknowledged appends; 0: none */
    public Progress(long nextIndex, int maxInflight, long maxInflightBytes) {
        this.nextIndex = nextIndex;
        this.maxInflight = maxInflight;
        this.maxInflightBytes = maxInflightBytes;
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

    public boolean recentActive() {
        return recentActive;
    }

    public void setRecentActive(boolean active) {
        recentActive = active;
    }

    public long readAck() {
        return readAck;
    }

    /** Records a heartbeat response's ReadIndex context; returns whether it is newer than any before. */
    public boolean ackRead(long context) {
        if (context <= readAck) {
            return false;
        }
        readAck = context;
        return true;
    }

    /** The leader's own entry: everything it has persisted matches, and it never needs probing. */
    public void becomeSelf(long stableLastIndex) {
        matchIndex = stableLastIndex;
        becomeReplicate();
        recentActive = true;
    }

    public boolean isPaused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflight.size() >= maxInflight || (maxInflightBytes > 0 && inflightBytes >= maxInflightBytes);
            case SNAPSHOT -> true;
        };
    }

    public void becomeProbe() {
        // After a snapshot, probe from just past it: the member holds everything up to it (or reports otherwise).
        nextIndex = state == State.SNAPSHOT ? Math.max(matchIndex + 1, pendingSnapshot + 1) : matchIndex + 1;
        state = State.PROBE;
        probeSent = false;
        stalledRounds = 0;
        pendingSnapshot = 0;
        clearInflight();
    }

    public void becomeSnapshot(long snapshotIndex) {
        state = State.SNAPSHOT;
        pendingSnapshot = snapshotIndex;
        probeSent = false;
        stalledRounds = 0;
        clearInflight();
    }

    /** A failed snapshot transfer: the member got nothing, so probe again from what it is known to hold. */
    public void snapshotFailed() {
        pendingSnapshot = 0;
        becomeProbe();
    }

    /** The snapshot transfer ended (either way): wait for the next heartbeat response before probing. */
    public void waitForHeartbeat() {
        probeSent = true;
    }

    public void becomeReplicate() {
        pendingSnapshot = 0;
        state = State.REPLICATE;
        probeSent = false;
        clearInflight();
        nextIndex = matchIndex + 1;
    }

    /** A successful append response up to {@code index}; returns true if it told us something new. */
    public boolean maybeUpdate(long index) {
        boolean updated = false;
        if (index > matchIndex) {
            matchIndex = index;
            updated = true;
            probeSent = false;
        }
        nextIndex = Math.max(nextIndex, index + 1);
        while (!inflight.isEmpty() && inflight.peekFirst()[0] <= index) {
            inflightBytes -= inflight.pollFirst()[1];
        }
        return updated;
    }

    /**
     * A successful append response up to {@code index}, with the state changes it implies: a probe that found the
     * match point starts pipelining; a snapshot that is in resumes replication after it. Returns whether matchIndex
     * advanced.
     */
    public boolean appendAccepted(long index) {
        boolean advanced = maybeUpdate(index);
        if (state == State.PROBE && index >= matchIndex) {
            becomeReplicate();
        } else if (state == State.SNAPSHOT && matchIndex >= pendingSnapshot) {
            becomeProbe();
        }
        return advanced;
    }

    /**
     * A heartbeat response from a member that lags the leader's log (and did not acknowledge the leader's entries
     * with it). If appends are out but matchIndex has not moved across two heartbeat rounds, one was lost: fall back
     * to probing. Either way, a probe may go out again.
     */
    public void heartbeatWhileBehind() {
        if (state == State.REPLICATE && !inflight.isEmpty() && matchIndex == lastHeartbeatMatch && ++stalledRounds >= 2) {
            becomeProbe();
        } else if (matchIndex != lastHeartbeatMatch) {
            stalledRounds = 0;
        }
        lastHeartbeatMatch = matchIndex;
        probeSent = false;
    }

    /**
     * A rejection of the append whose prevLogIndex was {@code rejected}; {@code candidateNext} is where the conflict
     * hint says to try next. Returns false if the rejection is stale.
     */
    public boolean maybeDecrTo(long rejected, long candidateNext) {
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

    /** An append was sent: its entries end at {@code lastIndex} and hold {@code bytes} of data. */
    public void sentEntries(long lastIndex, long bytes) {
        if (state == State.REPLICATE) {
            nextIndex = lastIndex + 1;
            inflight.addLast(new long[] {lastIndex, bytes});
            inflightBytes += bytes;
        } else {
            probeSent = true;
        }
    }

    /** An empty append went out as a probe. */
    public void sentEmptyProbe() {
        if (state == State.PROBE) {
            probeSent = true;
        }
    }

    private void clearInflight() {
        inflight.clear();
        inflightBytes = 0;
    }

    /** Entry bytes of the unacknowledged appends. */
    public long inflightBytes() {
        return inflightBytes;
    }

    @Override
    public String toString() {
        return state + "{match=" + matchIndex + ", next=" + nextIndex + ", inflight=" + inflight.size() + "/" + inflightBytes + "B}";
    }
}
