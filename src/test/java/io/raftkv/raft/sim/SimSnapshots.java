package io.raftkv.raft.sim;

import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.SnapshotMeta;

import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Random;

/**
 * The simulation's snapshot runtime, as a real node's would behave: take a snapshot of the state machine at its
 * applied index and compact the log behind it (less a margin); carry a snapshot's data beside the SNAPSHOT message
 * that announces it; install a received snapshot in three durable steps with a possible crash between any two (the
 * snapshot file kept, the log reset, the state machine replaced); and on restart, reconcile the three as the
 * runtime's restart rule does (load the snapshot when the state machine is behind it; reset the log when it does not
 * hold the snapshot's point).
 */
final class SimSnapshots {

    /** A snapshot's data: the state machine at {@code meta.index()}. */
    record SimSnapshot(SnapshotMeta meta, SimKv kv) {
    }

    /** Snapshot data travelling with each SNAPSHOT message in flight (by identity: duplicates share it). */
    private final Map<Message, SimSnapshot> payloads = new IdentityHashMap<>();
    private final Random rnd;
    private final SafetyChecker checker;
    private final int compactionMargin;
    long taken;
    long installed;
    long installCrashes;

    SimSnapshots(Random rnd, SafetyChecker checker, int compactionMargin) {
        this.rnd = rnd;
        this.checker = checker;
        this.compactionMargin = compactionMargin;
    }

    /** Snapshots {@code n}'s state machine at its applied index and compacts its log up to that index less a margin. */
    void take(Simulation.SimNode n) {
        long base = n.snapshot == null ? 0 : n.snapshot.meta().index();
        if (!n.up || n.applied <= base) {
            return;
        }
        SnapshotMeta meta = n.raft.snapshotPoint(n.applied); // with the configuration, for restarts and followers
        if (meta == null) {
            return; // a snapshot from the leader is being installed
        }
        SimSnapshot s = new SimSnapshot(meta, n.kv.copy());
        checker.onSnapshot(n, meta, s.kv(), "taken");
        if (!n.raft.snapshotTaken(meta)) {
            return; // a snapshot from the leader is being installed
        }
        n.snapshot = s;
        long through = Math.max(n.disk.firstIndex() - 1, meta.index() - rnd.nextInt(compactionMargin + 1));
        n.disk.compact(through);
        taken++;
    }

    /**
     * A message is being sent: a SNAPSHOT carries its sender's newest snapshot, which may be newer than the one the
     * core named (taken between the Ready and its sending), as a real node streams its newest snapshot file.
     */
    Message onSend(Simulation.SimNode from, Message m) {
        if (m.type() != MessageType.SNAPSHOT) {
            return m;
        }
        SimSnapshot s = from.snapshot;
        if (s == null || s.meta().index() < m.index()) {
            throw new SafetyViolation(from.id + " sends snapshot " + m.index() + "@" + m.logTerm() + " but holds "
                    + (s == null ? "none" : s.meta()));
        }
        Message sent = m.toBuilder().index(s.meta().index()).logTerm(s.meta().term()).configuration(s.meta().configuration()).build();
        payloads.put(sent, s);
        return sent;
    }

    /** A SNAPSHOT message reaches its recipient: its data is now there, ready for the core to ask for its install. */
    void onDeliver(Simulation.SimNode to, Message m) {
        if (m.type() == MessageType.SNAPSHOT) {
            to.incomingSnapshot = payloads.get(m);
        }
    }

    /**
     * Installs the snapshot a Ready asks for. Returns false if the node crashed part way (the simulation then stops
     * handling the Ready).
     */
    boolean install(Simulation.SimNode n, SnapshotMeta meta, boolean mayCrash, Runnable crash) {
        SimSnapshot s = n.incomingSnapshot;
        if (s == null || !s.meta().equals(meta)) {
            throw new SafetyViolation(n.id + " is asked to install snapshot " + meta + " but received "
                    + (s == null ? "none" : s.meta()));
        }
        checker.onSnapshot(n, meta, s.kv(), "installed");
        n.snapshot = s; // 1. the received file is durable
        if (mayCrash && rnd.nextInt(10) == 0) {
            installCrashes++;
            crash.run();
            return false;
        }
        n.disk.resetTo(meta); // 2. the log starts after it
        if (mayCrash && rnd.nextInt(10) == 0) {
            installCrashes++;
            crash.run();
            return false;
        }
        n.kv = s.kv().copy(); // 3. the state machine is the snapshot's
        n.applied = meta.index();
        installed++;
        return true;
    }

    /** The restart rule: state machine behind the newest snapshot -> load it; log without its point -> reset. */
    void reconcileOnRestart(Simulation.SimNode n, boolean skipLoadMutation) {
        SimSnapshot s = n.snapshot;
        if (s == null) {
            return;
        }
        SnapshotMeta meta = s.meta();
        if (n.applied < meta.index()) {
            if (!skipLoadMutation) {
                n.kv = s.kv().copy();
            }
            n.applied = meta.index();
        }
        boolean holdsPoint = n.disk.firstIndex() - 1 <= meta.index() && n.disk.lastIndex() >= meta.index()
                && n.disk.term(meta.index()) == meta.term();
        if (!holdsPoint) {
            n.disk.resetTo(meta);
        }
    }

    static SnapshotMeta metaOf(Simulation.SimNode n) {
        return n.snapshot == null ? SnapshotMeta.NONE : n.snapshot.meta();
    }
}
