package io.raftkv.raft;

import io.raftkv.raft.confchange.ConfigurationLog;

import java.util.ArrayList;
import java.util.List;

/**
 * The log as the consensus core sees it: the persisted part ({@link LogStorage}) followed by "unstable" entries that a
 * {@link Ready} has handed out for persisting but the runtime has not yet confirmed. Also tracks commitIndex and
 * lastApplied.
 * <p>
 * A snapshot received from the leader ({@link #restore}) replaces the whole log until the runtime has installed it:
 * meanwhile the log is empty after the snapshot's index, whatever storage still holds.
 * <p>
 * The log also knows which configuration is in effect ({@link ConfigurationLog}): every append, truncation and
 * snapshot passes through here, and a CONFIG entry takes effect the moment it is appended.
 */
final class RaftLog {

    private final LogStorage storage;
    /** Entries not yet persisted; the first has index {@code unstableOffset}. */
    private List<Entry> unstable = new ArrayList<>();
    private long unstableOffset;
    /** How far the unstable entries have been handed out in a Ready (exclusive upper index). */
    private long handedOutTo;

    long committed;
    long applied;
    /** A snapshot to install (received from the leader), until the runtime confirms it; null when none. */
    private SnapshotMeta pendingSnapshot;
    private boolean snapshotHandedOut;
    /** The configuration at each point after the snapshot (or from the bootstrap one), the uncommitted tail included. */
    final ConfigurationLog configs;
    /** The newest snapshot this node holds (taken or installed), with its configuration. */
    private SnapshotMeta snapshot;

    /**
     * The log of {@code storage}. Its configuration is the snapshot's (if recorded), or else {@code bootstrap}, then
     * that of every CONFIG entry stored after it: how a restarted node recovers the configuration it had.
     */
    RaftLog(LogStorage storage, long applied, SnapshotMeta snapshot, Configuration bootstrap) {
        if (snapshot.index() < storage.firstIndex() - 1) {
            throw new IllegalStateException("the log starts at " + storage.firstIndex() + " but the newest snapshot is " + snapshot);
        }
        this.storage = storage;
        this.unstableOffset = storage.lastIndex() + 1;
        this.handedOutTo = unstableOffset;
        this.committed = storage.hardState().commit();
        if (applied > committed) {
            // The state machine may be ahead of the persisted commit index only if the hard state write lagged; a
            // committed entry stays committed, so trust the state machine.
            committed = Math.min(applied, storage.lastIndex());
        }
        this.applied = applied;
        if (applied < storage.firstIndex() - 1) {
            throw new IllegalStateException("state machine applied " + applied + " but the log starts at " + storage.firstIndex());
        }
        configs = ConfigurationLog.recover(storage, snapshot, bootstrap);
        this.snapshot = snapshot.isNone() ? snapshot : snapshot.withConfiguration(configs.at(snapshot.index()));
    }

    Configuration configuration() {
        return configs.current();
    }

    long firstIndex() {
        return pendingSnapshot != null ? pendingSnapshot.index() + 1 : storage.firstIndex();
    }

    long lastIndex() {
        if (!unstable.isEmpty()) {
            return unstableOffset + unstable.size() - 1;
        }
        return pendingSnapshot != null ? pendingSnapshot.index() : storage.lastIndex();
    }

    long lastTerm() {
        return term(lastIndex());
    }

    /** Index of the last persisted entry that is still part of this log. */
    long stableLastIndex() {
        return unstableOffset - 1;
    }

    /** The term at {@code index}, or -1 if the log does not hold it (beyond the end, or compacted). */
    long term(long index) {
        if (index < firstIndex() - 1 || index > lastIndex()) {
            return -1;
        }
        if (index >= unstableOffset) {
            return unstable.get((int) (index - unstableOffset)).term();
        }
        if (pendingSnapshot != null) {
            return index == pendingSnapshot.index() ? pendingSnapshot.term() : -1;
        }
        return storage.term(index);
    }

    boolean matchTerm(long index, long term) {
        long t = term(index);
        return t >= 0 && t == term;
    }

    /** Raft's "at least as up-to-date" comparison (paper 5.4.1). */
    boolean isUpToDate(long lastIndex, long lastTerm) {
        long myTerm = lastTerm();
        return lastTerm > myTerm || (lastTerm == myTerm && lastIndex >= lastIndex());
    }

    /**
     * The follower side of AppendEntries: if the entry at {@code prevIndex} has {@code prevTerm}, append what is new
     * (truncating a conflicting suffix), advance the commit index and return the last index known to match the leader;
     * otherwise return -1.
     */
    long maybeAppend(long prevIndex, long prevTerm, long leaderCommit, List<Entry> entries) {
        if (!matchTerm(prevIndex, prevTerm)) {
            return -1;
        }
        long lastNew = prevIndex + entries.size();
        int conflict = firstConflict(entries);
        if (conflict >= 0) {
            Entry first = entries.get(conflict);
            if (first.index() <= committed) {
                throw new IllegalStateException("entry " + first.index() + " conflicts with committed entry (commit " + committed + ")");
            }
            append(entries.subList(conflict, entries.size()));
        }
        commitTo(Math.min(leaderCommit, lastNew));
        return lastNew;
    }

    /**
     * A follower's hint after a failed consistency check at {@code prevIndex}: {index, term} of the first entry of its
     * conflicting term (term 0 and index lastIndex+1 when its log is too short), so the leader skips a term per round.
     */
    long[] conflictHint(long prevIndex) {
        long last = lastIndex();
        if (prevIndex > last) {
            return new long[] {last + 1, 0};
        }
        long hintTerm = term(prevIndex);
        long hintIndex = prevIndex;
        while (hintIndex - 1 > committed && term(hintIndex - 1) == hintTerm) {
            hintIndex--;
        }
        return new long[] {hintIndex, hintTerm};
    }

    /** The leader's side of the hint: where to send next after a rejection (dissertation 5.3 optimisation). */
    long nextIndexFromHint(long rejected, long hintIndex, long hintTerm) {
        if (hintTerm <= 0) {
            return hintIndex;
        }
        long floor = Math.max(1, firstIndex());
        for (long i = Math.min(rejected, lastIndex()); i >= floor; i--) {
            long t = term(i);
            if (t == hintTerm) {
                return i + 1;
            }
            if (t < hintTerm) {
                break;
            }
        }
        return hintIndex;
    }

    /** Position in {@code entries} of the first entry that is new or conflicts with this log, or -1. */
    private int firstConflict(List<Entry> entries) {
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            if (!matchTerm(e.index(), e.term())) {
                return i;
            }
        }
        return -1;
    }

    /** Appends entries, replacing any existing entries at or after the first one's index. */
    void append(List<Entry> entries) {
        if (entries.isEmpty()) {
            return;
        }
        long after = entries.get(0).index();
        if (after <= committed) {
            throw new IllegalStateException("append at " + after + " would overwrite committed entries (commit " + committed + ")");
        }
        if (after > lastIndex() + 1) {
            throw new IllegalStateException("append at " + after + " leaves a gap after " + lastIndex());
        }
        if (after == unstableOffset + unstable.size()) {
            unstable.addAll(entries);
        } else if (after <= unstableOffset) {
            // Replaces persisted entries too: the runtime's next save() truncates storage from here.
            unstableOffset = after;
            unstable = new ArrayList<>(entries);
        } else {
            List<Entry> kept = new ArrayList<>(unstable.subList(0, (int) (after - unstableOffset)));
            kept.addAll(entries);
            unstable = kept;
        }
        handedOutTo = Math.min(handedOutTo, after);
        configs.appended(entries);
    }

    /** Entries from {@code lo} to the end, bounded by {@code maxBytes} (at least one if any). */
    List<Entry> entriesFrom(long lo, long maxBytes) {
        long last = lastIndex();
        if (lo > last) {
            return List.of();
        }
        if (lo < firstIndex()) {
            throw new IllegalStateException("entry " + lo + " is compacted (first " + firstIndex() + ")");
        }
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        if (lo < unstableOffset) {
            List<Entry> stored = storage.entries(lo, Math.min(unstableOffset, storage.lastIndex() + 1), maxBytes);
            for (Entry e : stored) {
                bytes += e.sizeInBytes();
                out.add(e);
            }
            if (bytes >= maxBytes || out.isEmpty() || out.get(out.size() - 1).index() < unstableOffset - 1) {
                return out;
            }
        }
        long from = Math.max(lo, unstableOffset);
        for (long i = from; i <= last; i++) {
            Entry e = unstable.get((int) (i - unstableOffset));
            bytes += e.sizeInBytes();
            if (!out.isEmpty() && bytes > maxBytes) {
                break;
            }
            out.add(e);
        }
        return out;
    }

    void commitTo(long index) {
        if (index > committed) {
            if (index > lastIndex()) {
                throw new IllegalStateException("commit " + index + " beyond last index " + lastIndex());
            }
            committed = index;
        }
    }

    /** Unstable entries not yet handed out in a Ready. */
    List<Entry> entriesToPersist() {
        long last = lastIndex();
        if (unstable.isEmpty() || handedOutTo > last) {
            return List.of();
        }
        long from = Math.max(handedOutTo, unstableOffset);
        return List.copyOf(unstable.subList((int) (from - unstableOffset), unstable.size()));
    }

    boolean hasEntriesToPersist() {
        return !unstable.isEmpty() && handedOutTo <= lastIndex();
    }

    void markHandedOut(long lastIndex) {
        handedOutTo = Math.max(handedOutTo, lastIndex + 1);
    }

    /** Committed, persisted entries the state machine has not applied yet, bounded by {@code maxBytes}. */
    List<Entry> entriesToApply(long maxBytes) {
        long hi = Math.min(committed, stableLastIndex());
        if (applied >= hi || pendingSnapshot != null) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        long lo = applied + 1;
        long bytes = 0;
        while (lo <= hi) {
            List<Entry> chunk = storage.entries(lo, hi + 1, maxBytes - bytes);
            for (Entry e : chunk) {
                bytes += e.sizeInBytes();
                out.add(e);
            }
            lo += chunk.size();
            if (bytes >= maxBytes || chunk.isEmpty()) {
                break;
            }
        }
        return out;
    }

    boolean hasEntriesToApply() {
        return pendingSnapshot == null && applied < Math.min(committed, stableLastIndex());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Snapshots

    /**
     * Replaces the log with a snapshot from the leader: everything up to its index is committed and covered by it;
     * entries held after it are dropped (the caller has checked that the log does not already match at its index).
     */
    void restore(SnapshotMeta s) {
        if (s.index() <= committed) {
            throw new IllegalStateException("snapshot " + s + " is not past the commit index " + committed);
        }
        pendingSnapshot = s;
        snapshotHandedOut = false;
        unstable = new ArrayList<>();
        unstableOffset = s.index() + 1;
        handedOutTo = unstableOffset;
        committed = s.index();
        configs.reset(s.index(), s.configuration());
        snapshot = s;
    }

    SnapshotMeta snapshot() {
        return snapshot;
    }

    /** The snapshot point at applied index {@code index}, with its term and configuration; null while installing one. */
    SnapshotMeta snapshotPoint(long index) {
        if (snapshotPending()) {
            return null;
        }
        if (index < snapshot.index() || index > applied || term(index) < 0) {
            throw new IllegalArgumentException("no snapshot point at " + index + " (snapshot " + snapshot + ", applied " + applied + ")");
        }
        return new SnapshotMeta(index, term(index), configs.at(index));
    }

    /** The runtime took snapshot {@code s}: it becomes the newest one, and the configuration history before it goes. */
    boolean snapshotTaken(SnapshotMeta s) {
        if (snapshotPending()) {
            return false; // a snapshot from the leader replaces this log: do not compact on the old one's account
        }
        if (s.index() > applied || term(s.index()) != s.term()) {
            throw new IllegalArgumentException("snapshot " + s + " is not an applied point of this log (applied "
                    + applied + ", term there " + term(s.index()) + ")");
        }
        if (s.index() <= snapshot.index()) {
            return true; // older than the one held: nothing changes
        }
        Configuration c = configs.at(s.index());
        if (s.configuration() != null && !s.configuration().equals(c)) {
            throw new IllegalArgumentException("snapshot " + s + " records configuration " + s.configuration() + " but the log has " + c);
        }
        snapshot = s.withConfiguration(c);
        configs.compact(s.index());
        return true;
    }

    /** The snapshot the runtime must install, if it has not been handed out yet. */
    SnapshotMeta snapshotToInstall() {
        return pendingSnapshot != null && !snapshotHandedOut ? pendingSnapshot : null;
    }

    boolean snapshotPending() {
        return pendingSnapshot != null;
    }

    void markSnapshotHandedOut() {
        snapshotHandedOut = true;
    }

    /** The runtime installed {@code s}: storage now starts after it, and the state machine is at its index. */
    void snapshotInstalled(SnapshotMeta s) {
        if (s.equals(pendingSnapshot)) {
            pendingSnapshot = null;
            snapshotHandedOut = false;
        }
        if (storage.firstIndex() - 1 > s.index() || storage.lastIndex() < s.index() || storage.term(s.index()) != s.term()) {
            throw new IllegalStateException("after installing snapshot " + s + " storage holds " + storage.firstIndex()
                    + ".." + storage.lastIndex() + " without the snapshot's point");
        }
        applied = Math.max(applied, s.index());
    }

    /** The runtime persisted entries up to {@code index} (with {@code term}). */
    void stableTo(long index, long term) {
        if (index < unstableOffset || !matchTerm(index, term)) {
            return; // superseded by a truncation since the Ready was made
        }
        unstable = new ArrayList<>(unstable.subList((int) (index + 1 - unstableOffset), unstable.size()));
        unstableOffset = index + 1;
    }

    void appliedTo(long index) {
        if (index > committed || index < applied) {
            throw new IllegalStateException("applied " + index + " outside [" + applied + "," + committed + "]");
        }
        applied = index;
    }
}
