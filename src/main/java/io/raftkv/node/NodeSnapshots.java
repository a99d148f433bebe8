package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.SnapshotMeta;

import java.util.concurrent.CompletableFuture;

/**
 * What the node runtime needs of its snapshots: take one of the state machine without stopping it, install one
 * received from the leader, and stream the newest one to a follower. The data and its files are the implementation's
 * business ({@code io.raftkv.snapshot}); the runtime only sees log points.
 */
public interface NodeSnapshots extends AutoCloseable {

    /** The newest complete snapshot held, {@link SnapshotMeta#NONE} if none. */
    SnapshotMeta latest();

    /** Size in bytes of the newest snapshot file (0 if none). */
    long latestSizeBytes();

    /**
     * Starts a snapshot of the state machine at {@code at} (its lastApplied and that entry's term). Call it on the
     * thread that applies, between two applies; the data is written in the background while applies go on. The
     * future completes once the snapshot is durable.
     */
    CompletableFuture<SnapshotMeta> start(SnapshotMeta at);

    /** Whether a snapshot is being written. */
    boolean inProgress();

    /**
     * Makes the received snapshot {@code s} (complete and verified in the store, see {@link #receivedSnapshot}) the
     * state machine's content. Call it on the applying thread.
     */
    void install(SnapshotMeta s);

    /**
     * Streams the newest snapshot to the follower a SNAPSHOT message is addressed to, off the caller's thread. The
     * future yields true once the follower has received and verified all of it (it then steps the message into its
     * own core), false if the transfer failed.
     */
    CompletableFuture<Boolean> send(Message snapshotMessage);

    /** Snapshots fully received from a leader since start. */
    long receivedSnapshot();

    @Override
    void close();
}
