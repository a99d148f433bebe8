package io.raftkv.raft;

import static io.raftkv.raft.MessageType.APPEND;
import static io.raftkv.raft.MessageType.HEARTBEAT;
import static io.raftkv.raft.MessageType.SNAPSHOT;

import io.raftkv.raft.tracker.Progress;
import io.raftkv.raft.tracker.ProgressTracker;

import java.util.List;

/**
 * The leader's replication traffic, built from each follower's {@link Progress}: AppendEntries within flow control,
 * the newest snapshot for a follower behind the log's start, and heartbeats. When to send is the protocol's decision
 * ({@link Raft}); this class knows what each message holds and what sending it records in the follower's progress.
 * Messages go to the {@link ReadyHandOff}.
 */
final class Replicator {

    private final String id;
    private final RaftLog log;
    private final ProgressTracker tracker;
    private final long maxMsgBytes;
    private final ReadyHandOff handOff;

    Replicator(String id, RaftLog log, ProgressTracker tracker, long maxMsgBytes, ReadyHandOff handOff) {
        this.id = id;
        this.log = log;
        this.tracker = tracker;
        this.maxMsgBytes = maxMsgBytes;
        this.handOff = handOff;
    }

    /**
     * Sends the next AppendEntries of {@code term} to {@code to} if flow control allows (the snapshot instead if the
     * entries it needs are compacted away); returns whether one was sent.
     */
    boolean sendAppend(String to, long term, boolean sendIfEmpty) {
        Progress pr = tracker.progress(to);
        if (pr == null || pr.isPaused()) {
            return false;
        }
        long prevIndex = pr.nextIndex() - 1;
        long prevTerm = log.term(prevIndex);
        if (prevTerm < 0) {
            return sendSnapshot(to, term, pr); // the entries it needs are compacted away
        }
        List<Entry> entries = log.entriesFrom(pr.nextIndex(), maxMsgBytes);
        if (entries.isEmpty() && !sendIfEmpty) {
            return false;
        }
        send(Message.builder(APPEND, id, to, term).index(prevIndex).logTerm(prevTerm).entries(entries).commit(log.committed));
        if (!entries.isEmpty()) {
            long bytes = 0;
            for (Entry e : entries) {
                bytes += e.data().length;
            }
            pr.sentEntries(entries.get(entries.size() - 1).index(), bytes);
        } else {
            pr.sentEmptyProbe();
        }
        return true;
    }

    private boolean sendSnapshot(String to, long term, Progress pr) {
        SnapshotMeta snapshot = log.snapshot();
        if (snapshot.index() < log.firstIndex() - 1 || snapshot.isNone()) {
            throw new IllegalStateException("the log starts at " + log.firstIndex() + " but the newest snapshot is " + snapshot);
        }
        send(Message.builder(SNAPSHOT, id, to, term).index(snapshot.index()).logTerm(snapshot.term()).commit(log.committed)
                .configuration(snapshot.configuration()));
        pr.becomeSnapshot(snapshot.index());
        return true;
    }

    /**
     * The runtime finished sending a snapshot to {@code to} ({@code delivered} or not): the follower is probed again
     * after the next heartbeat round, from what it is known to hold if the transfer failed. Ignored unless a snapshot
     * is being sent to it.
     */
    void snapshotReported(String to, boolean delivered) {
        Progress pr = tracker.progress(to);
        if (pr == null || pr.state() != Progress.State.SNAPSHOT) {
            return;
        }
        if (delivered) {
            pr.becomeProbe();
        } else {
            pr.snapshotFailed();
        }
        pr.waitForHeartbeat();
    }

    /** {@link #sendAppend} to every other member. */
    void broadcastAppend(long term, boolean sendIfEmpty) {
        for (String peer : tracker.peers()) {
            sendAppend(peer, term, sendIfEmpty);
        }
    }

    /**
     * A heartbeat of {@code term} to every other member, carrying ReadIndex round {@code context} and the commit
     * index up to what the member is known to hold (so that everything up to it matches the leader's log).
     */
    void broadcastHeartbeat(long term, long context) {
        for (String peer : tracker.peers()) {
            Progress pr = tracker.progress(peer);
            long commit = Math.min(pr.matchIndex(), log.committed);
            send(Message.builder(HEARTBEAT, id, peer, term).commit(commit).context(context));
        }
    }

    private void send(Message.Builder b) {
        handOff.send(b.build());
    }
}
