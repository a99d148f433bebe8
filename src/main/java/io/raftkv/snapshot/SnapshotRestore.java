package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.CorruptStoreException;
import io.raftkv.storage.StorageException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The restart rule, run before a node starts: the KV store ({@code kv.db}) must not be behind the newest snapshot.
 * If the newest snapshot's index is above kv.db's lastApplied (or kv.db is missing, i.e. at 0), the snapshot is
 * installed into kv.db; the snapshot is checked in full while it is installed.
 * <p>
 * A damaged snapshot is never silently skipped when it matters. Whatever state the node starts from, the Raft log
 * must still hold every entry after it: a state at index {@code p} is <em>sufficient</em> if
 * {@code p >= logStartIndex - 1}, where {@code logStartIndex} is the first index the log still holds (1 if it was
 * never compacted). When the newest snapshot is damaged, the rule falls back to the next newest snapshot (or to
 * kv.db as it is) only if that is sufficient; the damaged file is then set aside ({@code .corrupt}) so that it is not
 * sent to followers. If nothing sufficient is left, it refuses with a {@link StorageException} that names the
 * damaged file, and changes nothing.
 */
public final class SnapshotRestore {

    /**
     * What the rule did.
     *
     * @param installed   the snapshot installed into kv.db, if one was
     * @param lastApplied kv.db's lastApplied afterwards
     * @param setAside    damaged snapshot files that were renamed to {@code .corrupt}
     */
    public record Result(Optional<SnapshotMeta> installed, long lastApplied, List<Path> setAside) {
    }

    private SnapshotRestore() {
    }

    /**
     * Applies the rule to the node whose data directory is {@code dataDir} (kv.db closed afterwards).
     *
     * @param logStartIndex the first log index the Raft log still holds (1 if never compacted)
     */
    public static Result restore(Path dataDir, long logStartIndex) {
        if (logStartIndex < 1) {
            throw new IllegalArgumentException("logStartIndex must be at least 1: " + logStartIndex);
        }
        SnapshotStore store = SnapshotStore.open(dataDir);
        try (KvStateMachine sm = KvStateMachine.open(dataDir)) {
            return restore(sm, store, logStartIndex);
        }
    }

    /**
     * Opens kv.db for {@link #restore}. kv.db is derived state: the newest snapshot plus the log after it. One that
     * cannot be read any more (a write that failed half way, a damaged page) is deleted and started empty when those
     * reach back far enough to rebuild it (a snapshot at or after {@code logStartIndex - 1}, or a log never
     * compacted): {@link #restore} then installs the snapshot and the node replays the log. Otherwise it refuses and
     * leaves the file as it is.
     *
     * @param rebuilding told why, when kv.db is rebuilt
     */
    public static KvStateMachine openStateMachine(Path dataDir, SnapshotStore store, long logStartIndex,
                                                  Consumer<String> rebuilding) {
        try {
            return KvStateMachine.open(dataDir);
        } catch (CorruptStoreException e) {
            long newest = store.latest().map(i -> i.meta().index()).orElse(0L);
            if (logStartIndex > 1 && newest < logStartIndex - 1) {
                throw new StorageException(e.getMessage() + "; it cannot be rebuilt: the log starts at " + logStartIndex
                        + " and the newest snapshot is at " + newest, e);
            }
            rebuilding.accept("KV store unreadable (" + e.getMessage() + "): rebuilding it from "
                    + (newest == 0 ? "an empty state" : "snapshot " + newest) + " and the log");
            KvStateMachine.discard(dataDir);
            return KvStateMachine.open(dataDir);
        }
    }

    /** {@link #restore(Path, long)} with an open state machine and store (left open). */
    public static Result restore(KvStateMachine sm, SnapshotStore store, long logStartIndex) {
        long applied = sm.lastApplied();
        long needed = logStartIndex - 1;
        List<SnapshotInfo> snapshots = store.list();
        List<SnapshotInfo> damaged = new ArrayList<>();
        List<SnapshotCorruptException> why = new ArrayList<>();
        for (SnapshotInfo s : snapshots) {
            if (s.index() <= applied) {
                break; // kv.db is at least as new as every remaining snapshot
            }
            if (s.index() < needed) {
                break; // would leave a gap before the log: neither this nor any older snapshot is sufficient
            }
            try (SnapshotFileReader r = store.openReader(s)) {
                sm.install(r);
                return new Result(Optional.of(s.meta()), sm.lastApplied(), setAside(store, damaged));
            } catch (SnapshotCorruptException e) {
                damaged.add(s);
                why.add(e);
            }
        }
        if (applied >= needed) {
            return new Result(Optional.empty(), applied, setAside(store, damaged));
        }
        StringBuilder msg = new StringBuilder("cannot start: the KV store is at index " + applied
                + " but the Raft log starts at index " + logStartIndex + " (entries " + (applied + 1) + ".." + needed
                + " are only in snapshots)");
        if (why.isEmpty()) {
            msg.append(" and no snapshot covers them");
        } else {
            msg.append(" and every snapshot that covers them is damaged: ");
            for (int i = 0; i < why.size(); i++) {
                msg.append(i == 0 ? "" : "; ").append(why.get(i).getMessage());
            }
        }
        msg.append(". Nothing was changed; copy a snapshot from another node or rejoin the cluster empty.");
        throw why.isEmpty() ? new StorageException(msg.toString()) : new StorageException(msg.toString(), why.get(0));
    }

    private static List<Path> setAside(SnapshotStore store, List<SnapshotInfo> damaged) {
        List<Path> out = new ArrayList<>();
        for (SnapshotInfo s : damaged) {
            out.add(store.quarantine(s));
        }
        return out;
    }
}
