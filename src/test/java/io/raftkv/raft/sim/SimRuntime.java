package io.raftkv.raft.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.Raft;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.sim.Simulation.SimNode;
import io.raftkv.statemachine.ApplyResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The simulated node runtime: how a node handles its Readies (persist, send, apply, serve reads, advance; or the
 * real runtime's order, with {@link SimOptions#runtimeOrder}), applies committed entries to its {@link SimKv}, and
 * how the network delivers a message into a node.
 * <p>
 * Ready handling follows the contract in {@link Ready}: persist hard state and entries in one {@code save}, then
 * release the messages to the network, then apply committed entries, then serve reads, then {@code advance}.
 */
final class SimRuntime {

    private final Simulation sim;

    SimRuntime(Simulation sim) {
        this.sim = sim;
    }

    /** Handles every Ready the node has, per the contract. With {@code crashAfterPersist}, crashes after the first save. */
    void handleReady(SimNode n, boolean crashAfterPersist) {
        Raft r = n.raft;
        while (r.hasReady()) {
            Ready rd = r.ready();
            if (sim.tracing) {
                sim.trace(n.id + " ready: " + readyString(rd));
            }
            if (rd.snapshot() != null && !sim.snapshots.install(n, rd.snapshot(), sim.chaos, () -> sim.crash(n))) {
                return; // crashed part way through the install
            }
            if (rd.snapshot() != null) {
                sim.clients.snapshotInstalled(n, rd.snapshot().index());
            }
            sim.checker.beforePersist(n, rd);
            if (!rd.entries().isEmpty() && rd.entries().get(0).index() <= n.disk.lastIndex()) {
                sim.truncations++;
            }
            List<Message> late = rd.messages();
            if (sim.opt.mutation == Mutation.SEND_BEFORE_PERSIST) {
                send(rd.messages());
                late = List.of();
                if (sim.chaos && (rd.hardState() != null || !rd.entries().isEmpty()) && sim.rnd.nextInt(3) == 0) {
                    sim.crash(n); // the messages are out; the state they depend on never reaches the disk
                    return;
                }
            } else if (sim.opt.runtimeOrder) {
                late = sendEarly(n, rd);
                if (late == null) {
                    return; // crashed between the early send and the disk write
                }
            }
            HardState toSave = sim.opt.runtimeOrder ? hardStateToSave(n, rd) : rd.hardState();
            n.disk.save(toSave, rd.entries());
            sim.checker.afterPersist(n, rd);
            if (crashAfterPersist) {
                sim.crash(n);
                return;
            }
            send(late);
            for (Entry e : rd.committedEntries()) {
                apply(n, e);
            }
            for (ReadState rs : rd.readStates()) {
                n.readStates.add(rs);
                sim.clients.onReadState(n, rs);
            }
            sim.clients.serveReads(n);
            r.advance(rd);
        }
        n.dirty = false;
    }

    /**
     * runtimeOrder: sends the leader's AppendEntries and heartbeats before the disk write, as RaftNode does (the core
     * counts the leader's own copy only after advance); may crash right after. Returns the messages left for after
     * the write, or null after a crash.
     */
    private List<Message> sendEarly(SimNode n, Ready rd) {
        HardState saved = n.disk.hardState();
        HardState hs = rd.hardState();
        // Not while the term or vote changes (a single voter elects itself in one Ready): see RaftNode.handleReady.
        boolean termStable = hs == null || (hs.term() == saved.term() && Objects.equals(hs.votedFor(), saved.votedFor()));
        List<Message> early = new ArrayList<>();
        List<Message> late = new ArrayList<>();
        for (Message m : rd.messages()) {
            (termStable && (m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT) ? early : late).add(m);
        }
        send(early);
        if (sim.chaos && !early.isEmpty() && !rd.entries().isEmpty() && sim.rnd.nextInt(6) == 0) {
            sim.crash(n); // the appends are out; the leader's own copy never reaches its disk
            return null;
        }
        return late;
    }

    /**
     * runtimeOrder: the hard state as RaftNode saves it. A change of the commit index alone is kept in memory (lost
     * in a crash) and rides along with the next save of entries, term or vote.
     */
    private static HardState hardStateToSave(SimNode n, Ready rd) {
        HardState hs = rd.hardState() != null ? rd.hardState() : n.unsavedHardState;
        if (hs == null) {
            return null;
        }
        HardState saved = n.disk.hardState();
        boolean termOrVote = hs.term() != saved.term() || !Objects.equals(hs.votedFor(), saved.votedFor());
        if (!termOrVote && rd.entries().isEmpty()) {
            n.unsavedHardState = hs;
            return null;
        }
        n.unsavedHardState = null;
        return hs;
    }

    private static String readyString(Ready rd) {
        StringBuilder sb = new StringBuilder();
        if (rd.softState() != null) {
            sb.append("soft=").append(rd.softState()).append(' ');
        }
        if (rd.hardState() != null) {
            sb.append("hard=").append(rd.hardState()).append(' ');
        }
        if (!rd.entries().isEmpty()) {
            sb.append("entries=").append(rd.entries().get(0).index()).append("..").append(rd.entries().get(rd.entries().size() - 1).index())
                    .append("@").append(rd.entries().get(rd.entries().size() - 1).term()).append(' ');
        }
        if (!rd.committedEntries().isEmpty()) {
            sb.append("apply=").append(rd.committedEntries().get(0).index()).append("..")
                    .append(rd.committedEntries().get(rd.committedEntries().size() - 1).index()).append(' ');
        }
        if (!rd.readStates().isEmpty()) {
            sb.append("reads=").append(rd.readStates()).append(' ');
        }
        sb.append("msgs=").append(rd.messages());
        return sb.toString();
    }

    void send(List<Message> messages) {
        for (Message sent : messages) {
            Message m = sim.snapshots.onSend(sim.byId.get(sent.from()), sent);
            sim.checker.onSend(m);
            sim.network.add(m);
        }
        sim.maxInFlight = Math.max(sim.maxInFlight, sim.network.size());
    }

    /** Applies a committed entry to the node's state machine and answers the client attempt that proposed it there. */
    private void apply(SimNode n, Entry e) {
        sim.checker.onApply(n, e);
        ApplyResult r = n.kv.apply(e, sim.opt.mutation != Mutation.NO_SESSION_DEDUP, sim.opt.mutation != Mutation.IGNORE_CONDITIONS);
        n.applied = e.index();
        sim.checker.onApplied(n, e, r);
        sim.clients.applied(n, e, r);
    }

    /** Steps a message into its recipient, unless partitioned away, dropped by a test filter, or the node is down. */
    void deliver(Message m, boolean mayBatch) {
        SimNode to = sim.byId.get(m.to());
        SimNode from = sim.byId.get(m.from());
        if (to == null || from == null || sim.blocked[from.idx][to.idx] || !to.up || sim.dropIf.test(m)) {
            if (sim.tracing) {
                sim.trace("lost " + m);
            }
            reportSnapshot(m, false);
            return;
        }
        sim.delivered++;
        if (m.reject()) {
            sim.rejections++;
        }
        if (sim.tracing) {
            sim.trace("deliver " + m);
        }
        sim.onDeliver.accept(m);
        sim.snapshots.onDeliver(to, m);
        to.raft.step(m);
        sim.afterInput(to, mayBatch);
        reportSnapshot(m, true);
    }

    /** The sender's runtime learns how a snapshot transfer ended, as a real node's streaming thread reports it. */
    void reportSnapshot(Message m, boolean delivered) {
        SimNode from = sim.byId.get(m.from());
        if (m.type() == MessageType.SNAPSHOT && from != null && from.up) {
            from.raft.reportSnapshot(m.to(), delivered);
            sim.afterInput(from, false);
        }
    }
}
