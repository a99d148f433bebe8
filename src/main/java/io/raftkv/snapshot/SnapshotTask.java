package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A snapshot being written in the background ({@link KvSnapshotter#start}): its log point, the outcome, and a way to
 * stop it.
 */
public final class SnapshotTask {

    private final SnapshotMeta meta;
    private final CompletableFuture<SnapshotInfo> result = new CompletableFuture<>();
    private volatile boolean cancelled;

    SnapshotTask(SnapshotMeta meta) {
        this.meta = meta;
    }

    /** The log point the snapshot stands for. */
    public SnapshotMeta meta() {
        return meta;
    }

    /**
     * Completes with the published snapshot once it is durable (older ones beyond the newest two are then deleted),
     * or exceptionally: a {@link java.util.concurrent.CancellationException} after {@link #cancel}, or what failed.
     * The runtime tells the Raft core that the log may be compacted up to {@link #meta()} only after success.
     */
    public CompletableFuture<SnapshotInfo> result() {
        return result;
    }

    /** Waits for the outcome: the snapshot, or the failure's cause rethrown (unchecked). */
    public SnapshotInfo await() {
        try {
            return result.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    /** Asks the writer to stop at its next batch; the partial file is deleted. */
    public void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    CompletableFuture<SnapshotInfo> future() {
        return result;
    }

    @Override
    public String toString() {
        return "SnapshotTask{" + meta + (result.isDone() ? ", done" : "") + "}";
    }
}
