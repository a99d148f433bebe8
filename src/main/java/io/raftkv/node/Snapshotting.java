package io.raftkv.node;

import io.raftkv.events.EventLog;
import io.raftkv.raft.Message;
import io.raftkv.raft.Raft;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.raft.WritableLogStorage;
import io.raftkv.statemachine.StateMachine;
import io.raftkv.storage.DiskFullException;
import io.raftkv.storage.DiskSpace;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link RaftNode}'s snapshots and log compaction, on its loop thread: takes a snapshot of the state machine when
 * enough was applied or logged since the last one (or when an operator asks), compacts the log behind it, streams
 * snapshots to followers the log cannot serve, and installs one received from the leader. The data itself is the
 * {@link NodeSnapshots}' business.
 */
final class Snapshotting {

    private static final Logger LOG = Logger.getLogger(RaftNode.class.getName()); // logs as the node it serves

    private final NodeSettings settings;
    private final WritableLogStorage storage;
    private final StateMachine stateMachine;
    private final NodeSnapshots snapshots;
    private final Raft raft;
    private final EventLog events;
    private final DiskSpace disk;
    private final Supplier<NodeObserver> observer;
    /** Runs work on the node's loop thread (a snapshot completes off it). */
    private final Consumer<Runnable> loop;
    /** Told the index of a snapshot from the leader once it is installed. */
    private final LongConsumer installed;

    /** The newest snapshot's index, and entry bytes logged since it was started. */
    private long snapshotIndex;
    private long logBytesSinceSnapshot;
    private boolean snapshotSkippedForSpace;

    /**
     * @param snapshotIndex the index of the newest snapshot held at start
     * @param disk          the data directory's free space, or null not to check it
     */
    Snapshotting(NodeSettings settings, WritableLogStorage storage, StateMachine stateMachine, NodeSnapshots snapshots,
                 Raft raft, EventLog events, DiskSpace disk, Supplier<NodeObserver> observer, Consumer<Runnable> loop,
                 LongConsumer installed, long snapshotIndex) {
        this.settings = settings;
        this.storage = storage;
        this.stateMachine = stateMachine;
        this.snapshots = snapshots;
        this.raft = raft;
        this.events = events;
        this.disk = disk;
        this.observer = observer;
        this.loop = loop;
        this.installed = installed;
        this.snapshotIndex = snapshotIndex;
    }

    /** The newest snapshot's index. */
    long snapshotIndex() {
        return snapshotIndex;
    }

    /** {@code bytes} of entries were written to the log. */
    void logged(long bytes) {
        logBytesSinceSnapshot += bytes;
    }

    /**
     * Takes a snapshot if one is due, or at once when {@code force} (see {@link RaftNode#snapshot}); {@code future}
     * completes when the snapshot is durable and the log compacted, or with the newest snapshot if there is nothing new
     * to cover.
     */
    void takeIfDue(boolean force, CompletableFuture<SnapshotMeta> future) {
        long applied = stateMachine.lastApplied();
        boolean due = applied - snapshotIndex >= settings.snapshotEntries()
                || (logBytesSinceSnapshot >= settings.snapshotBytes() && applied > snapshotIndex);
        if (snapshots.inProgress()) {
            future.completeExceptionally(new IllegalStateException("a snapshot is being taken"));
        } else if (applied <= snapshotIndex || applied < storage.firstIndex() - 1 || (!force && !due)) {
            future.complete(snapshots.latest()); // nothing new to cover
        } else {
            start(applied, future);
        }
    }

    private void start(long applied, CompletableFuture<SnapshotMeta> future) {
        SnapshotMeta at = raft.snapshotPoint(applied); // with the configuration as of applied, for the file's header
        if (at == null) {
            future.complete(snapshots.latest()); // a snapshot from the leader is being installed
            return;
        }
        // The new snapshot is at most the last one plus what was logged since (no entry adds more than its own size).
        long estimate = snapshots.latestSizeBytes() + logBytesSinceSnapshot;
        if (disk != null && !disk.hasRoomFor(estimate)) {
            String why = "snapshot at " + at + " not taken: it needs up to " + estimate + " bytes and only "
                    + disk.usableBytes() + " are free (at least " + disk.minFreeBytes() + " must stay free)";
            if (!snapshotSkippedForSpace) {
                events.log(why);
                snapshotSkippedForSpace = true;
            }
            future.completeExceptionally(new DiskFullException(why));
            return;
        }
        snapshotSkippedForSpace = false;
        long started = System.nanoTime();
        logBytesSinceSnapshot = 0;
        snapshots.start(at).whenComplete((meta, err) -> loop.accept(() -> {
            if (err != null) {
                LOG.log(Level.WARNING, "snapshot at " + at + " failed", err);
                events.log("snapshot at " + at + " failed: " + err);
                future.completeExceptionally(err);
                return;
            }
            if (raft.snapshotTaken(meta)) {
                snapshotIndex = Math.max(snapshotIndex, meta.index());
                long through = Math.min(meta.index() - settings.logMargin(), storage.lastIndex());
                if (through > storage.firstIndex() - 1) {
                    storage.compact(through);
                }
            }
            observer.get().snapshotTaken(System.nanoTime() - started);
            events.log("snapshot taken at index " + meta.index() + ", term " + meta.term() + " in "
                    + (System.nanoTime() - started) / 1_000_000 + " ms; the log now starts at " + storage.firstIndex());
            future.complete(meta);
        }));
    }

    /** A follower needs entries this leader compacted: stream the snapshot, then tell the core how it went. */
    void send(Message m) {
        events.log("sending snapshot " + m.index() + "@" + m.logTerm() + " to " + m.to());
        snapshots.send(m).whenComplete((ok, err) -> loop.accept(() -> raft.reportSnapshot(m.to(), err == null && ok)));
    }

    /**
     * The core accepted a snapshot received from the leader: the log restarts after it, the state machine is it. The
     * node is told its index before the install is logged.
     */
    void install(SnapshotMeta s) {
        long started = System.nanoTime();
        storage.resetTo(s);
        snapshots.install(s);
        snapshotIndex = s.index();
        logBytesSinceSnapshot = 0;
        installed.accept(s.index());
        events.log("installed snapshot " + s + " from the leader in " + (System.nanoTime() - started) / 1_000_000
                + " ms; the log now starts at " + storage.firstIndex());
    }
}
