package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvPointInTime;
import io.raftkv.statemachine.KvStateMachine;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;

/**
 * Takes snapshots of a {@link KvStateMachine}: {@link #start} fixes the point (the state machine's lastApplied, which
 * the caller names with its term) and returns at once; a background thread then streams every key as of that index
 * into a new snapshot file of the {@link SnapshotStore} while entries keep being applied ({@link KvPointInTime}
 * explains how the content stays at that index).
 */
public final class KvSnapshotter {

    /** Keys read per batch: applies wait at most for one batch to be read (a few milliseconds). */
    public static final int DEFAULT_BATCH = 1024;

    /** Called on the writer thread after each batch (tests use it to interleave applies). */
    @FunctionalInterface
    public interface BatchListener {
        void afterBatch(long recordsWritten);
    }

    private KvSnapshotter() {
    }

    /**
     * Starts a snapshot of {@code stateMachine} at {@code at}, which must be its current lastApplied with the term of
     * that entry (call it from the thread that applies, between two applies). {@link IllegalStateException} if
     * {@code at.index()} is not lastApplied or a snapshot is already being taken.
     *
     * @param configuration the cluster configuration as of {@code at} (opaque; empty if none)
     */
    public static SnapshotTask start(KvStateMachine stateMachine, SnapshotStore store, SnapshotMeta at,
                                     byte[] configuration) {
        return start(stateMachine, store, at, configuration, DEFAULT_BATCH, n -> {
        });
    }

    /** {@link #start(KvStateMachine, SnapshotStore, SnapshotMeta, byte[])} with a batch size and a listener. */
    public static SnapshotTask start(KvStateMachine stateMachine, SnapshotStore store, SnapshotMeta at,
                                     byte[] configuration, int batchKeys, BatchListener listener) {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(at, "at");
        byte[] config = Objects.requireNonNull(configuration, "configuration").clone();
        if (at.isNone()) {
            throw new IllegalArgumentException("nothing to snapshot at " + at);
        }
        KvPointInTime pit = stateMachine.beginPointInTime();
        if (pit.index() != at.index()) {
            pit.close();
            throw new IllegalStateException("cannot snapshot at " + at + ": the state machine's last applied index is "
                    + pit.index());
        }
        SnapshotTask task = new SnapshotTask(at);
        Thread writer = new Thread(() -> write(pit, store, task, config, batchKeys, listener),
                "raftkv-snapshot-" + at.index());
        writer.setDaemon(true);
        try {
            writer.start();
        } catch (RuntimeException | Error e) {
            pit.close();
            throw e;
        }
        return task;
    }

    private static void write(KvPointInTime pit, SnapshotStore store, SnapshotTask task, byte[] config,
                              int batchKeys, BatchListener listener) {
        SnapshotFileWriter out = null;
        try (pit) {
            out = store.create(task.meta(), config, pit.sessions(), pit.count());
            for (List<KvEntry> batch = pit.nextBatch(batchKeys); !batch.isEmpty(); batch = pit.nextBatch(batchKeys)) {
                for (KvEntry e : batch) {
                    out.append(e);
                }
                if (task.cancelled()) {
                    throw new CancellationException("snapshot at " + task.meta() + " cancelled");
                }
                listener.afterBatch(out.records());
            }
            pit.close(); // stop keeping pre-images before the sync
            task.future().complete(out.finish());
        } catch (RuntimeException | Error e) {
            if (out != null) {
                try {
                    out.abort();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            task.future().completeExceptionally(e);
        }
    }
}
