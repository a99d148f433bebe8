package io.raftkv.node;

import io.raftkv.events.EventLog;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.Raft;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.raft.WritableLogStorage;
import io.raftkv.storage.DiskFullException;
import io.raftkv.storage.DiskSpace;
import io.raftkv.raft.confchange.ConfChangeRefusedException;
import io.raftkv.raft.ConfigEntry;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.StateMachine;
import io.raftkv.transport.PeerTransport;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The node runtime: one thread owns the Raft core, the log storage and the state machine. Everything else (HTTP
 * threads, the ticker, the peer endpoint) hands it work through a queue. Each loop iteration drains the queue (so
 * concurrent client writes share one fsync and one AppendEntries), then carries out every {@link Ready} in the order
 * the core requires: persist, send, apply, advance. Snapshots and compaction are {@link Snapshotting}'s work,
 * leadership transfers {@link LeadershipHandOver}'s and learner promotion {@link LearnerPromotion}'s.
 */
public final class RaftNode implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(RaftNode.class.getName());
    private static final int MAX_DRAIN = 4096;

    private record PendingWrite(long term, CompletableFuture<ApplyResult> future) {
    }

    private record WaitingRead(long index, CompletableFuture<Long> future) {
    }

    private final NodeSettings settings;
    private final WritableLogStorage storage;
    private final StateMachine stateMachine;
    private final PeerTransport transport;
    private final NodeSnapshots snapshots;
    private final EventLog events;
    private final Consumer<Throwable> onFatal;
    private final DiskSpace disk;
    private final Raft raft;
    private final Snapshotting snapshotting;
    private final LeadershipHandOver handOver;
    private final LearnerPromotion learners;
    private volatile NodeObserver observer = NodeObserver.NONE;
    private volatile MembershipListener membership = MembershipListener.NONE;

    private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>();
    private final Thread loop;
    private final ScheduledExecutorService ticker;
    private volatile boolean running = true;
    private final java.util.concurrent.atomic.AtomicBoolean tickQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicInteger pendingCount = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicLong pendingBytes = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.Set<CompletableFuture<String>> leaderWaiters = java.util.concurrent.ConcurrentHashMap.newKeySet();

    // Owned by the loop thread.
    private final Map<Long, PendingWrite> pendingWrites = new HashMap<>();
    private final Map<Long, CompletableFuture<Long>> pendingReads = new HashMap<>();
    private final PriorityQueue<WaitingRead> waitingReads = new PriorityQueue<>((a, b) -> Long.compare(a.index, b.index));
    private long readSequence;
    private long lastFlushNanos = System.nanoTime();
    private long appliedSinceFlush;
    private long ticks;
    private Ready.SoftState softState;
    /** When this node learned of the current leader and term (epoch millis; 0 while no leader is known). */
    private long leaderSinceMillis;
    private HardState savedHardState;
    private HardState unsavedHardState;

    // Published for other threads.
    private volatile Role role = Role.FOLLOWER;
    private volatile String leaderId;
    private volatile long term;
    private volatile long commitIndex;
    private volatile long lastApplied;
    private volatile io.raftkv.raft.Configuration configuration = io.raftkv.raft.Configuration.EMPTY;

    public RaftNode(NodeSettings settings, WritableLogStorage storage, StateMachine stateMachine, PeerTransport transport,
                    NodeSnapshots snapshots, EventLog events, DiskSpace disk, Random random, Consumer<Throwable> onFatal) {
        this.settings = settings;
        this.disk = disk;
        this.storage = storage;
        this.stateMachine = stateMachine;
        this.transport = transport;
        this.snapshots = snapshots;
        this.events = events;
        this.onFatal = onFatal;
        RaftConfig config = new RaftConfig(settings.id(), settings.bootstrapVoters(), settings.electionTicks(),
                settings.heartbeatTicks(), settings.maxMsgBytes(), settings.maxInflight(), 16L << 20, true, true,
                stateMachine.lastApplied(), random == null ? new SecureRandom() : random,
                16 * settings.maxMsgBytes()); // per follower: at most 16 full appends' worth of entries unacknowledged
        SnapshotMeta latest = snapshots.latest();
        this.raft = new Raft(config, storage, latest);
        this.snapshotting = new Snapshotting(settings, storage, stateMachine, snapshots, raft, events, disk, () -> observer,
                inbox::add, this::snapshotInstalled, latest.index());
        this.learners = new LearnerPromotion(raft, events, () -> membership);
        this.term = raft.term();
        this.commitIndex = raft.commitIndex();
        this.lastApplied = raft.lastApplied();
        this.softState = new Ready.SoftState(raft.role(), raft.leader(), raft.term());
        this.savedHardState = storage.hardState();
        events.log("started: term " + raft.term() + ", voted for " + (raft.votedFor() == null ? "nobody" : raft.votedFor())
                + ", log " + storage.firstIndex() + ".." + storage.lastIndex() + ", commit " + raft.commitIndex()
                + ", applied " + stateMachine.lastApplied() + ", configuration " + raft.configuration()
                + (raft.configuration().isEmpty() ? " (joining: waits to be added)" : ""));
        this.loop = new Thread(this::runLoop, "raft-loop-" + settings.id());
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "raft-tick-" + settings.id());
            t.setDaemon(true);
            return t;
        });
        this.handOver = new LeadershipHandOver(this, raft, settings, events, ticker);
    }

    /** Who hears of membership changes (the address book) and decides promotions; set before {@link #start}. */
    public void membership(MembershipListener l) {
        this.membership = l == null ? MembershipListener.NONE : l;
    }

    /** Where this node reports what it does (metrics); set before or after {@link #start}. */
    public void observe(NodeObserver o) {
        this.observer = o == null ? NodeObserver.NONE : o;
    }

    public void start() {
        loop.start();
        long tickMicros = settings.tick().toNanos() / 1000;
        ticker.scheduleAtFixedRate(() -> {
            // At most one tick waits in the queue. If the loop stalls (GC, a slow disk, a starved CPU), logical time
            // stalls with it instead of catching up in a burst: a burst of ticks processed ahead of the queued peer
            // messages would make a healthy leader fail CheckQuorum and followers start needless elections.
            if (tickQueued.compareAndSet(false, true)) {
                inbox.add(this::onTick);
            }
        }, tickMicros, tickMicros, TimeUnit.MICROSECONDS);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Inputs from other threads

    /** Messages from a peer (already validated by the transport endpoint). */
    public void receive(List<Message> messages) {
        inbox.add(() -> messages.forEach(raft::step));
    }

    /**
     * {@link #receive(List)}, but the whole batch is dropped (and {@code forged} told why) if a message breaks Raft's
     * rules in a way no correct member can: an AppendEntries, heartbeat or snapshot of this node's current term from a
     * member other than the leader it knows for that term (a term has at most one leader). Checked on the node's
     * loop, against the state the messages would be stepped into.
     */
    public void receive(List<Message> messages, java.util.function.Consumer<String> forged) {
        inbox.add(() -> {
            for (Message m : messages) {
                String why = forgery(m);
                if (why != null) {
                    forged.accept(why);
                    return;
                }
            }
            messages.forEach(raft::step);
        });
    }

    private String forgery(Message m) {
        boolean fromLeader = m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT
                || m.type() == MessageType.SNAPSHOT;
        String leader = raft.leader();
        if (fromLeader && m.term() == raft.term() && leader != null && !leader.equals(m.from())) {
            return m.type() + " of term " + m.term() + " from " + m.from() + ", but the leader of term " + m.term()
                    + " is " + leader;
        }
        return null;
    }

    /**
     * Proposes a state machine command. Completes with its result once it is committed and applied here; fails with
     * {@link NotLeaderException}, {@link ProposalLostException}, or a timeout (outcome unknown).
     */
    public CompletableFuture<ApplyResult> propose(byte[] command) {
        CompletableFuture<ApplyResult> future = new CompletableFuture<>();
        // Backpressure: refuse before proposing (so certainly without effect) while too much is in flight. The
        // counters cover the queue to the loop as well as the log, so an overload cannot fill the heap with bodies.
        int writes = pendingCount.incrementAndGet();
        long bytes = pendingBytes.addAndGet(command.length);
        future.whenComplete((r, err) -> {
            pendingCount.decrementAndGet();
            pendingBytes.addAndGet(-command.length);
            observer.proposalEnded(NodeEventLines.outcome(err));
        });
        if (writes > settings.maxPendingWrites() || (writes > 1 && bytes > settings.maxPendingBytes())) {
            future.completeExceptionally(new OverloadedException(writes - 1 + " writes (" + (bytes - command.length)
                    + " bytes) are in flight on this node, the limit is " + settings.maxPendingWrites() + " writes and "
                    + settings.maxPendingBytes() + " bytes"));
            return future;
        }
        submit(future, () -> {
            if (future.isDone()) {
                return; // its client has given up (timed out): appending it now would only add work
            }
            Entry e = raft.propose(EntryType.COMMAND, command);
            if (e == null) {
                future.completeExceptionally(new NotLeaderException(raft.leader()));
            } else {
                pendingWrites.put(e.index(), new PendingWrite(e.term(), future));
            }
        });
        return future.orTimeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Leader only: appends an IDENTITY entry (a member's incarnation, see {@code io.raftkv.membership.Identity});
     * best effort, nobody waits for it (a lost one is proposed again).
     */
    public void proposeIdentity(byte[] registration) {
        submit(new CompletableFuture<Void>(), () -> {
            if (raft.role() == Role.LEADER) {
                raft.propose(EntryType.IDENTITY, registration);
            }
        });
    }

    /** Writes accepted for proposal and not yet answered, and their command bytes. */
    public int pendingWrites() {
        return pendingCount.get();
    }

    /**
     * Completes with the leader's id as soon as one is known (at once if one is), or with null after {@code timeout}:
     * a request that arrives during an election waits for its outcome instead of failing at once.
     */
    public CompletableFuture<String> awaitLeader(java.time.Duration timeout) {
        CompletableFuture<String> f = new CompletableFuture<>();
        String known = leaderId;
        if (known != null || !running) {
            f.complete(known);
            return f;
        }
        leaderWaiters.add(f);
        String now = leaderId; // published meanwhile?
        if (now != null) {
            f.complete(now);
        }
        return f.completeOnTimeout(null, timeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((l, e) -> leaderWaiters.remove(f));
    }

    /**
     * Proposes a single-server membership change ({@link Raft#proposeConfChange}). The new configuration is in effect
     * in the core as soon as this node appends the entry; the future completes once the entry is committed and applied
     * here. Fails with {@link NotLeaderException}, {@link ConfChangeRefusedException} (a change is pending, the leader
     * has not yet committed an entry of its term, a transfer is under way, or the change does not apply: see its
     * reason), {@link ProposalLostException}, or a timeout (outcome unknown).
     */
    public CompletableFuture<ApplyResult> proposeConfChange(ConfChange change) {
        CompletableFuture<ApplyResult> future = new CompletableFuture<>();
        submit(future, () -> {
            Entry e;
            try {
                e = raft.proposeConfChange(change);
            } catch (ConfChangeRefusedException refused) {
                future.completeExceptionally(refused);
                return;
            }
            if (e == null) {
                future.completeExceptionally(new NotLeaderException(raft.leader()));
            } else {
                pendingWrites.put(e.index(), new PendingWrite(e.term(), future));
            }
        });
        return future.orTimeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * A linearizable read barrier (ReadIndex): completes, with the read index, once this node has confirmed it is
     * still the leader and has applied everything committed before the call. Read the state machine after it.
     */
    public CompletableFuture<Long> readBarrier() {
        CompletableFuture<Long> future = new CompletableFuture<>();
        submit(future, () -> {
            long id = ++readSequence;
            pendingReads.put(id, future);
            raft.readIndex(id);
        });
        return future.orTimeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The full status, taken on the loop thread. */
    public CompletableFuture<NodeStatus> status(long keys, long droppedPeerMessages) {
        CompletableFuture<NodeStatus> future = new CompletableFuture<>();
        submit(future, () -> {
            var s = raft.status();
            Map<String, String> members = new java.util.TreeMap<>();
            settings.members().forEach((k, v) -> members.put(k, v.toString()));
            future.complete(new NodeStatus(s, settings.url(settings.id()).toString(),
                    s.leader() == null ? null : settings.url(s.leader()).toString(), members, keys, droppedPeerMessages,
                    s.leader() == null ? 0 : leaderSinceMillis));
        });
        return future.orTimeout(settings.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Queues client work for the loop thread; it fails with {@link NotProposedException} if it never runs. */
    void submit(CompletableFuture<?> future, Runnable work) {
        if (!running) {
            future.completeExceptionally(new NotProposedException("node is shutting down"));
            return;
        }
        inbox.add(new Queued(future, work));
    }

    /** A client's request waiting in the inbox: if the loop stops before it runs, it certainly had no effect. */
    private record Queued(CompletableFuture<?> future, Runnable work) implements Runnable {
        @Override
        public void run() {
            work.run();
        }
    }

    public Role role() {
        return role;
    }

    public String leaderId() {
        return leaderId;
    }

    public long term() {
        return term;
    }

    public long commitIndex() {
        return commitIndex;
    }

    public long lastApplied() {
        return lastApplied;
    }

    public NodeSettings settings() {
        return settings;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The loop

    private void runLoop() {
        List<Runnable> batch = new ArrayList<>();
        while (running) {
            try {
                Runnable first = inbox.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.clear();
                batch.add(first);
                inbox.drainTo(batch, MAX_DRAIN);
                for (Runnable r : batch) {
                    r.run();
                }
                while (raft.hasReady()) {
                    Ready rd = raft.ready();
                    handleReady(rd);
                    raft.advance(rd);
                }
                publish();
            } catch (InterruptedException e) {
                if (!running) {
                    break;
                }
            } catch (Throwable t) {
                // Storage failed (disk full, I/O error) or an invariant broke: continuing could violate safety.
                if (DiskSpace.isOutOfSpace(t)) {
                    LOG.log(Level.SEVERE, "disk full; stopping the raft side of this node: " + t.getMessage());
                    events.log("DISK FULL: " + t.getMessage());
                } else {
                    LOG.log(Level.SEVERE, "raft loop failed; stopping this node", t);
                    events.log("FATAL: " + t);
                }
                running = false;
                failAll(t);
                onFatal.accept(t);
                return;
            }
        }
    }

    private void handleReady(Ready rd) {
        checkDiskSpace(rd);
        configuration = raft.configuration(); // before any answer below, so that answers see it
        if (rd.snapshot() != null) {
            snapshotting.install(rd.snapshot());
        }
        // The leader's AppendEntries and heartbeats may leave before its own disk write (Raft thesis 10.2.1): the core
        // counts the leader's own copy toward commit only after advance(), i.e. after the write below. Not when this
        // Ready also changes the term or vote (a single voter elects itself in one step): a crash before the write
        // would let this node lead the same term again, with other entries at the indexes it already sent.
        HardState rh = rd.hardState();
        boolean termStable = rh == null || (rh.term() == savedHardState.term() && Objects.equals(rh.votedFor(), savedHardState.votedFor()));
        List<Message> early = new ArrayList<>();
        List<Message> late = new ArrayList<>();
        for (Message m : rd.messages()) {
            if (m.type() == MessageType.SNAPSHOT) {
                snapshotting.send(m);
                continue;
            }
            (termStable && (m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT) ? early : late).add(m);
        }
        if (!early.isEmpty()) {
            transport.send(early);
        }
        // 1. Persist term, vote and new entries in one durable write before any response depends on them. A change of
        //    the commit index alone is not worth a sync (commitIndex is volatile state in Raft): it rides along with the
        //    next write, or the periodic flush.
        HardState hs = rd.hardState();
        if (hs != null) {
            unsavedHardState = hs;
        }
        boolean termOrVoteChanged = hs != null && (hs.term() != savedHardState.term() || !Objects.equals(hs.votedFor(), savedHardState.votedFor()));
        if (!rd.entries().isEmpty() || termOrVoteChanged) {
            saveLog(rd.entries());
            for (Entry e : rd.entries()) {
                if (e.type() == EntryType.CONFIG) {
                    ConfigEntry c = ConfigEntry.decode(e.data());
                    membership.appended(c);
                    events.log("configuration at index " + e.index() + " (term " + e.term() + "): " + c.change().type()
                            + " " + c.change().nodeId() + " -> voters " + c.configuration().voters() + ", learners "
                            + c.configuration().learners());
                }
            }
        }
        if (rd.softState() != null) {
            Ready.SoftState before = softState;
            softState = rd.softState();
            NodeEventLines.roleChanged(events, settings, before, softState);
            if (softState.leader() == null) {
                leaderSinceMillis = 0;
            } else if (!softState.leader().equals(before.leader()) || softState.term() != before.term()) {
                leaderSinceMillis = System.currentTimeMillis();
            }
            if (!Objects.equals(softState.leader(), before.leader())) {
                observer.leaderChanged(softState.leader(), softState.term());
            }
        }
        // 2. Send.
        if (!late.isEmpty()) {
            NodeEventLines.votesGranted(events, late);
            transport.send(late);
        }
        // 3. Apply.
        if (!rd.committedEntries().isEmpty()) {
            apply(rd.committedEntries());
        }
        // 4. Reads.
        for (ReadState rs : rd.readStates()) {
            CompletableFuture<Long> f = pendingReads.remove(rs.requestId());
            if (f == null) {
                continue;
            }
            if (rs.failed()) {
                f.completeExceptionally(new NotLeaderException(raft.leader()));
            } else {
                waitingReads.add(new WaitingRead(rs.readIndex(), f));
            }
        }
        releaseReads();
    }

    /**
     * Stops before a write that would leave less than the configured free space (nothing of this Ready has been done
     * yet, so every file stays complete): the node then stops as after a crash, and its server waits for space.
     */
    private void checkDiskSpace(Ready rd) {
        if (disk == null || (rd.entries().isEmpty() && rd.snapshot() == null)) {
            return;
        }
        long bytes = 0;
        for (Entry e : rd.entries()) {
            bytes += e.sizeInBytes();
        }
        if (rd.snapshot() != null) {
            bytes += snapshots.latestSizeBytes(); // the state machine is rebuilt from it: about that much again
        }
        if (!disk.hasRoomFor(bytes)) {
            // A leader's new entries exist nowhere else yet; a follower's came from the leader, which has them.
            long notWrittenFrom = raft.role() == Role.LEADER && !rd.entries().isEmpty() ? rd.entries().get(0).index() : 0;
            throw new DiskFullException("fewer than " + disk.minFreeBytes() + " bytes would be left free after writing "
                    + bytes + " bytes of log (" + disk.usableBytes() + " bytes free): not writing", notWrittenFrom);
        }
    }

    private void apply(List<Entry> entries) {
        long started = System.nanoTime();
        List<ApplyResult> results = stateMachine.apply(entries);
        observer.applied(entries.size(), System.nanoTime() - started);
        Map<Long, ApplyResult> byIndex = new HashMap<>();
        for (ApplyResult r : results) {
            byIndex.put(r.index(), r);
        }
        for (Entry e : entries) {
            PendingWrite w = pendingWrites.remove(e.index());
            if (w == null) {
                continue;
            }
            if (w.term() == e.term() && byIndex.containsKey(e.index())) {
                w.future().complete(byIndex.get(e.index()));
            } else {
                w.future().completeExceptionally(new ProposalLostException(e.index(), w.term(), e.term()));
            }
        }
        for (Entry e : entries) {
            if (e.type() == EntryType.CONFIG) {
                membership.applied(ConfigEntry.decode(e.data()));
            } else if (e.type() == EntryType.IDENTITY) {
                membership.identityApplied(e.index(), e.data());
            }
        }
        appliedSinceFlush += entries.size();
        lastApplied = entries.get(entries.size() - 1).index();
        maybeFlush(false);
    }

    /** Makes applied state durable now and then; the log already holds every committed entry. */
    private void maybeFlush(boolean force) {
        if (appliedSinceFlush == 0) {
            return;
        }
        long now = System.nanoTime();
        if (force || appliedSinceFlush >= 10_000 || now - lastFlushNanos >= settings.applyFlushInterval().toNanos()) {
            stateMachine.flush();
            observer.backendCommitted(System.nanoTime() - now);
            appliedSinceFlush = 0;
            lastFlushNanos = now;
        }
    }

    private void saveLog(List<Entry> entries) {
        HardState hs = unsavedHardState;
        long started = System.nanoTime();
        storage.save(hs, entries);
        long took = System.nanoTime() - started;
        long bytes = 0;
        for (Entry e : entries) {
            bytes += e.sizeInBytes();
        }
        snapshotting.logged(bytes);
        observer.logSaved(took, entries.size(), bytes);
        if (hs != null) {
            savedHardState = hs;
            unsavedHardState = null;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Snapshots and compaction

    /**
     * Takes a snapshot when enough was applied or logged since the last one (called by the periodic housekeeping), or
     * at once when {@code force} (an operator's request). Completes when the snapshot is durable and the log compacted.
     */
    public CompletableFuture<SnapshotMeta> snapshot(boolean force) {
        CompletableFuture<SnapshotMeta> future = new CompletableFuture<>();
        submit(future, () -> snapshotting.takeIfDue(force, future));
        return future;
    }

    /**
     * A snapshot from the leader up to {@code index} is installed: the state machine is at it, and writes this node
     * proposed as an earlier leader and that the snapshot covers have an unknown outcome here.
     */
    private void snapshotInstalled(long index) {
        lastApplied = index;
        for (Iterator<Map.Entry<Long, PendingWrite>> it = pendingWrites.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Long, PendingWrite> w = it.next();
            if (w.getKey() <= index) {
                w.getValue().future().completeExceptionally(new OutcomeUnknownException(
                        "replaced by a snapshot from the leader before its outcome was known here", w.getKey(),
                        w.getValue().term(), null));
                it.remove();
            }
        }
    }

    public long snapshotIndex() {
        return snapshotting.snapshotIndex();
    }

    private void releaseReads() {
        long applied = stateMachine.lastApplied();
        while (!waitingReads.isEmpty() && waitingReads.peek().index() <= applied) {
            waitingReads.poll().future().complete(applied);
        }
    }

    private void onTick() {
        tickQueued.set(false);
        raft.tick();
        if (++ticks % 50 == 0) {
            maybeFlush(false);
            if (unsavedHardState != null) {
                saveLog(List.of());
            }
            learners.promoteCaughtUp();
            pendingWrites.values().removeIf(w -> w.future().isDone());
            pendingReads.values().removeIf(CompletableFuture::isDone);
            waitingReads.removeIf(r -> r.future().isDone());
        }
    }

    /** The configuration in effect on this node (as of its last loop iteration). */
    public io.raftkv.raft.Configuration configuration() {
        return configuration;
    }

    private void publish() {
        configuration = raft.configuration();
        role = raft.role();
        leaderId = raft.leader();
        if (leaderId != null && !leaderWaiters.isEmpty()) {
            String l = leaderId;
            leaderWaiters.forEach(f -> f.complete(l));
        }
        term = raft.term();
        commitIndex = raft.commitIndex();
        lastApplied = raft.lastApplied();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The event log

    // ---------------------------------------------------------------------------------------------------------------

    private void failAll(Throwable cause) {
        RuntimeException e = new IllegalStateException("node stopped: " + cause.getMessage(), cause);
        // A proposed entry may already be on other members: whether it commits is decided without this node.
        long neverSent = cause instanceof DiskFullException full && full.notWrittenFrom() > 0 ? full.notWrittenFrom() : Long.MAX_VALUE;
        pendingWrites.forEach((index, w) -> w.future().completeExceptionally(index >= neverSent ? cause
                : new OutcomeUnknownException("node stopped (" + cause.getMessage() + ") before the write was known to be"
                + " committed", index, w.term(), cause)));
        pendingReads.values().forEach(f -> f.completeExceptionally(e));
        waitingReads.forEach(r -> r.future().completeExceptionally(e));
        pendingWrites.clear();
        pendingReads.clear();
        waitingReads.clear();
        leaderWaiters.forEach(f -> f.complete(null));
        Runnable r;
        while ((r = inbox.poll()) != null) {
            if (r instanceof Queued q) { // never reached the core: not proposed, not read
                q.future().completeExceptionally(new NotProposedException("node stopped (" + cause.getMessage()
                        + ") before the request was proposed"));
            }
        }
    }

    /**
     * Hands leadership to {@code target} (null: the most up-to-date live follower). Completes with the new leader's id
     * once this node has stepped down to it; fails with {@link NotLeaderException} if this node is not the leader, with
     * IllegalArgumentException for an unknown or unusable target, and with a timeout if the target has not taken over
     * within an election timeout (this node then leads again).
     */
    public CompletableFuture<String> transferLeadership(String target) {
        return handOver.transfer(target);
    }

    /** Stops the loop, makes applied state durable and closes the adapters. */
    @Override
    public void close() {
        if (!running && !loop.isAlive()) {
            return;
        }
        if (!running) {
            // The loop stopped itself after a fatal error: nothing can be flushed or handed over any more.
            ticker.shutdownNow();
            transport.close();
            return;
        }
        if (loop.isAlive()) {
            handOver.beforeShutdown();
        }
        ticker.shutdownNow();
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        inbox.add(() -> {
            try {
                maybeFlush(true);
                if (unsavedHardState != null) {
                    saveLog(List.of());
                }
            } finally {
                running = false;
                stopped.complete(null);
            }
        });
        try {
            stopped.get(5, TimeUnit.SECONDS);
            loop.join(5000);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "node loop did not stop cleanly", e);
            running = false;
            loop.interrupt();
        }
        failAll(new IllegalStateException("shutdown"));
        transport.close();
        events.log("stopped: term " + raft.term() + ", commit " + raft.commitIndex() + ", applied " + stateMachine.lastApplied());
    }
}
