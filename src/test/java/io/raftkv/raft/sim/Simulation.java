package io.raftkv.raft.sim;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogStorage;
import io.raftkv.raft.MemoryLogStorage;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.Raft;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A deterministic, in-memory Raft cluster: N nodes, each a {@link Raft} core, a {@link MemoryLogStorage} "disk" and
 * a key-value state machine, connected by a simulated network that can drop, duplicate, reorder and delay messages and
 * be partitioned. Everything (election jitter included) comes from one seeded {@link Random}, so a run is reproducible
 * from its seed alone.
 * <p>
 * Two ways to drive it: {@link #chaosStep()} picks one random action per step (the randomized test), and the
 * controlled methods ({@link #tickAll()}, {@link #deliverAll()}, {@link #isolate}, {@link #propose}, ...) script a
 * scenario (the targeted tests). The {@link SafetyChecker} watches every input and every Ready.
 * <p>
 * Ready handling follows the contract in {@link Ready}: persist hard state and entries in one {@code save}, then
 * release the messages to the network, then apply committed entries, then serve reads, then {@code advance}. A node
 * may take several inputs before its Ready is handled (as a batching runtime would); whatever it has not persisted is
 * lost if it crashes.
 */
public final class Simulation {


    /** One simulated server. */
    public static final class SimNode {
        public final String id;
        final int idx;
        /** Survives crashes. */
        public final MemoryLogStorage disk = new MemoryLogStorage();
        Raft raft;
        boolean up;
        /** Inputs taken since the last Ready was handled. */
        boolean dirty;
        int incarnation;
        /** The state machine (volatile) and its last flushed copy (durable). */
        TreeMap<String, String> kv = new TreeMap<>();
        long applied;
        TreeMap<String, String> kvDurable = new TreeMap<>();
        long appliedDurable;
        /** runtimeOrder: a hard state whose only change was the commit index, not saved yet (lost in a crash). */
        HardState unsavedHardState;
        /** The newest snapshot (durable), and snapshot data received with a SNAPSHOT message (lost in a crash). */
        SimSnapshots.SimSnapshot snapshot;
        SimSnapshots.SimSnapshot incomingSnapshot;
        long commitSeen;
        final TreeMap<Long, PendingWrite> writes = new TreeMap<>();
        final LinkedHashMap<Long, PendingRead> reads = new LinkedHashMap<>();
        /** Every ReadState this node's Readies carried (targeted tests). */
        public final List<ReadState> readStates = new ArrayList<>();

        SimNode(String id, int idx) {
            this.id = id;
            this.idx = idx;
        }

        public Raft raft() {
            return raft;
        }

        public boolean up() {
            return up;
        }

        public Map<String, String> kv() {
            return kv;
        }

        public long applied() {
            return applied;
        }
    }

    static final class Client {
        final int id;
        History.Op op;
        long since;
        int opsDone;

        Client(int id) {
            this.id = id;
        }
    }

    record PendingWrite(Client client, History.Op op, Entry entry) {
    }

    static final class PendingRead {
        final Client client;
        final History.Op op;
        long index = -1;

        PendingRead(Client client, History.Op op) {
            this.client = client;
            this.op = op;
        }
    }

    /** Storage whose hard state forgets the vote (the FORGET_VOTE mutation). */
    private record ForgetfulStorage(LogStorage d) implements LogStorage {
        public HardState hardState() {
            HardState hs = d.hardState();
            return new HardState(hs.term(), null, hs.commit());
        }

        public long firstIndex() {
            return d.firstIndex();
        }

        public long lastIndex() {
            return d.lastIndex();
        }

        public long term(long index) {
            return d.term(index);
        }

        public List<Entry> entries(long lo, long hi, long maxBytes) {
            return d.entries(lo, hi, maxBytes);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    final SimOptions opt;
    final Random rnd;
    final List<String> ids;
    final List<SimNode> nodes = new ArrayList<>();
    final Map<String, SimNode> byId = new LinkedHashMap<>();
    final List<Message> network = new ArrayList<>();
    final SimSnapshots snapshots;
    final SimMembership membership;
    private final SimChaos chaosDriver = new SimChaos(this);
    /** Messages held back, with the step at which they rejoin the network. */
    final List<Message> delayed = new ArrayList<>();
    final List<Long> delayedUntil = new ArrayList<>();
    final boolean[][] blocked;
    final SafetyChecker checker;
    private final History history = new History();
    private final List<Client> clients = new ArrayList<>();
    private final ArrayDeque<String> traceBuffer = new ArrayDeque<>();
    final boolean tracing;
    long step;
    private long clock;
    private long nextRequestId = 1;
    private int opCounter;
    boolean chaos;

    /** Called with each message just before it is stepped into its recipient (targeted tests count messages). */
    public Consumer<Message> onDeliver = m -> {
    };
    /** Messages matching this are dropped at delivery (targeted tests). */
    public Predicate<Message> dropIf = m -> false;

    // Stats.
    long crashes;
    long delivered;
    long maxInFlight;
    long truncations;
    long rejections;

    public Simulation(SimOptions opt) {
        this.opt = opt;
        this.rnd = new Random(opt.seed);
        this.tracing = opt.trace || opt.verbose != null;
        List<String> list = new ArrayList<>();
        for (int i = 1; i <= opt.nodes + opt.spareNodes; i++) {
            list.add("n" + i);
        }
        this.ids = List.copyOf(list);
        // Its own random source, like the snapshots': runs without membership changes see the chaos they always saw.
        this.membership = new SimMembership(this, new Random(opt.seed * 17 + 3), ids.subList(0, opt.nodes));
        for (int i = 0; i < ids.size(); i++) {
            SimNode n = new SimNode(ids.get(i), i);
            nodes.add(n);
            byId.put(n.id, n);
        }
        this.blocked = new boolean[ids.size()][ids.size()];
        this.checker = new SafetyChecker(this, membership.bootstrap());
        this.checker.checkVotes = opt.checkVotes;
        this.checker.checkCommitQuorum = opt.checkCommitQuorum;
        // Its own random source: runs without snapshots see the same chaos as before snapshots existed.
        this.snapshots = new SimSnapshots(new Random(opt.seed * 31 + 7), checker, opt.compactionMargin);
        for (int i = 0; i < opt.clients; i++) {
            clients.add(new Client(i));
        }
    }

    /** Boots every node from its disk (empty, unless a test pre-loaded it). */
    public Simulation start() {
        for (SimNode n : nodes) {
            checker.preloaded(n);
        }
        for (SimNode n : nodes) {
            boot(n);
        }
        return this;
    }

    public List<SimNode> nodes() {
        return nodes;
    }

    public List<String> ids() {
        return ids;
    }

    public SimNode node(String id) {
        return byId.get(id);
    }

    public Raft raft(String id) {
        return byId.get(id).raft;
    }

    public long step() {
        return step;
    }

    public History history() {
        return history;
    }

    public List<Message> inFlight() {
        return network;
    }

    public int leadersElected() {
        return checker.leadersElected();
    }

    public long snapshotsTaken() {
        return snapshots.taken;
    }

    public long snapshotsInstalled() {
        return snapshots.installed;
    }

    public long snapshotInstallCrashes() {
        return snapshots.installCrashes;
    }

    public int committedCount() {
        return checker.committed.size();
    }

    /** Configuration changes committed, proposals accepted, proposals refused. */
    public long confChangesCommitted() {
        return checker.configChangesCommitted;
    }

    public long confChangesProposed() {
        return membership.proposed;
    }

    public long confChangesRefused() {
        return membership.refusedCount();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Tracing

    void trace(String s) {
        String line = "[" + step + "] " + s;
        if (opt.verbose != null) {
            opt.verbose.println(line);
        }
        if (opt.trace) {
            traceBuffer.addLast(line);
            if (traceBuffer.size() > opt.traceKeep) {
                traceBuffer.removeFirst();
            }
        }
    }

    public List<String> recentTrace() {
        return new ArrayList<>(traceBuffer);
    }

    private String describe(SimNode n) {
        if (!n.up) {
            return n.id + "(down)";
        }
        Raft r = n.raft;
        String members = opt.wConfChange > 0 ? " " + r.configuration() : "";
        return n.id + "(" + r.role() + " t" + r.term() + " last=" + r.lastIndex() + " commit=" + r.commitIndex() + " applied=" + n.applied + members + ")";
    }

    public String describeCluster() {
        StringBuilder sb = new StringBuilder();
        for (SimNode n : nodes) {
            sb.append(describe(n)).append(' ');
        }
        sb.append("inflight=").append(network.size());
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Node lifecycle

    private RaftConfig config(SimNode n) {
        return new RaftConfig(n.id, membership.bootstrapFor(n.id), opt.electionTick, opt.heartbeatTick, opt.maxMsgBytes, opt.maxInflight,
                opt.maxApplyBytes, opt.preVote, opt.checkQuorum, n.applied, new Random(rnd.nextLong()), opt.maxInflightBytes);
    }

    private void boot(SimNode n) {
        LogStorage storage = opt.mutation == Mutation.FORGET_VOTE && n.incarnation > 0 ? new ForgetfulStorage(n.disk) : n.disk;
        n.raft = new Raft(config(n), storage, SimSnapshots.metaOf(n));
        if (opt.mutation == Mutation.CONF_CHANGE_BEFORE_TERM_COMMIT) {
            n.raft.disableOwnTermRuleForTesting();
        }
        if (opt.mutation == Mutation.COMMIT_OLD_TERM) {
            n.raft.disableCurrentTermCommitRuleForTesting();
        }
        n.up = true;
        n.dirty = false;
        n.incarnation++;
        checker.booted(n);
        if (tracing) {
            trace("boot " + describe(n) + " hs=" + n.disk.hardState());
        }
        afterInput(n, false);
    }

    /** Crashes a node: everything not persisted (in-memory Raft state, unhandled Ready, state machine) is lost. */
    public void crash(String id) {
        crash(byId.get(id));
    }

    void crash(SimNode n) {
        if (!n.up) {
            return;
        }
        crashes++;
        if (tracing) {
            trace("CRASH " + describe(n));
        }
        n.up = false;
        n.raft = null;
        n.dirty = false;
        n.unsavedHardState = null;
        n.incomingSnapshot = null;
        for (PendingWrite w : n.writes.values()) {
            abandon(w.client(), w.op());
        }
        n.writes.clear();
        for (PendingRead r : n.reads.values()) {
            abandon(r.client, r.op);
        }
        n.reads.clear();
    }

    /**
     * Restarts a crashed node from its disk. The state machine comes back either from its last flush (applied = the
     * flushed index) or empty (applied = 0, everything is re-applied from the log).
     */
    public void restart(String id) {
        restart(byId.get(id), rnd.nextBoolean());
    }

    void restart(SimNode n, boolean keepDurableStateMachine) {
        if (n.up) {
            return;
        }
        if (!keepDurableStateMachine) {
            n.kvDurable = new TreeMap<>();
            n.appliedDurable = 0;
        }
        n.kv = new TreeMap<>(n.kvDurable);
        n.applied = n.appliedDurable;
        snapshots.reconcileOnRestart(n, opt.mutation == Mutation.SKIP_SNAPSHOT_LOAD);
        boot(n);
    }

    /** Makes the state machine's current state durable (what a snapshot or an fsync'd store would do). */
    void flushStateMachine(SimNode n) {
        n.kvDurable = new TreeMap<>(n.kv);
        n.appliedDurable = n.applied;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Inputs and Ready handling

    /** {@code id} took an input from outside (the membership operator): check it, maybe handle its Ready. */
    void inputTaken(String id) {
        afterInput(byId.get(id), true);
    }

    void afterInput(SimNode n, boolean mayBatch) {
        checker.afterInput(n);
        if (mayBatch && opt.batchProbability > 0 && rnd.nextDouble() < opt.batchProbability) {
            n.dirty = true;
        } else {
            handleReady(n, false);
        }
    }

    /** Handles every Ready the node has, per the contract. With {@code crashAfterPersist}, crashes after the first save. */
    void handleReady(SimNode n, boolean crashAfterPersist) {
        Raft r = n.raft;
        while (r.hasReady()) {
            Ready rd = r.ready();
            if (tracing) {
                trace(n.id + " ready: " + readyString(rd));
            }
            if (rd.snapshot() != null && !snapshots.install(n, rd.snapshot(), chaos, () -> crash(n))) {
                return; // crashed part way through the install
            }
            checker.beforePersist(n, rd);
            if (!rd.entries().isEmpty() && rd.entries().get(0).index() <= n.disk.lastIndex()) {
                truncations++;
            }
            List<Message> late = rd.messages();
            if (opt.mutation == Mutation.SEND_BEFORE_PERSIST) {
                send(rd.messages());
                late = List.of();
                if (chaos && (rd.hardState() != null || !rd.entries().isEmpty()) && rnd.nextInt(3) == 0) {
                    crash(n); // the messages are out; the state they depend on never reaches the disk
                    return;
                }
            } else if (opt.runtimeOrder) {
                late = sendEarly(n, rd);
                if (late == null) {
                    return; // crashed between the early send and the disk write
                }
            }
            HardState toSave = opt.runtimeOrder ? hardStateToSave(n, rd) : rd.hardState();
            n.disk.save(toSave, rd.entries());
            checker.afterPersist(n, rd);
            if (crashAfterPersist) {
                crash(n);
                return;
            }
            send(late);
            for (Entry e : rd.committedEntries()) {
                apply(n, e);
            }
            for (ReadState rs : rd.readStates()) {
                onReadState(n, rs);
            }
            serveReads(n);
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
        boolean termStable = hs == null || (hs.term() == saved.term() && java.util.Objects.equals(hs.votedFor(), saved.votedFor()));
        List<Message> early = new ArrayList<>();
        List<Message> late = new ArrayList<>();
        for (Message m : rd.messages()) {
            (termStable && (m.type() == MessageType.APPEND || m.type() == MessageType.HEARTBEAT) ? early : late).add(m);
        }
        send(early);
        if (chaos && !early.isEmpty() && !rd.entries().isEmpty() && rnd.nextInt(6) == 0) {
            crash(n); // the appends are out; the leader's own copy never reaches its disk
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
        boolean termOrVote = hs.term() != saved.term() || !java.util.Objects.equals(hs.votedFor(), saved.votedFor());
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

    private void send(List<Message> messages) {
        for (Message sent : messages) {
            Message m = snapshots.onSend(byId.get(sent.from()), sent);
            checker.onSend(m);
            network.add(m);
        }
        maxInFlight = Math.max(maxInFlight, network.size());
    }

    private void apply(SimNode n, Entry e) {
        checker.onApply(n, e);
        if (e.type() == EntryType.COMMAND) {
            KvCommand.Put p = KvCommand.decode(e.data());
            n.kv.put(p.key(), p.value());
        }
        n.applied = e.index();
        PendingWrite w = n.writes.remove(e.index());
        if (w != null) {
            if (w.entry().equals(e)) {
                complete(w.client(), w.op(), null);
            } else {
                abandon(w.client(), w.op()); // another entry took the index: the outcome is unknown to the client
            }
        }
    }

    private void onReadState(SimNode n, ReadState rs) {
        n.readStates.add(rs);
        PendingRead pr = n.reads.get(rs.requestId());
        if (pr == null) {
            return;
        }
        if (rs.failed()) {
            n.reads.remove(rs.requestId());
            fail(pr.client, pr.op);
        } else {
            pr.index = rs.readIndex();
        }
    }

    private void serveReads(SimNode n) {
        if (n.reads.isEmpty()) {
            return;
        }
        var it = n.reads.values().iterator();
        while (it.hasNext()) {
            PendingRead pr = it.next();
            if (pr.index >= 0 && pr.index <= n.applied) {
                it.remove();
                complete(pr.client, pr.op, n.kv.get(pr.op.key));
            }
        }
    }

    /** Steps a message into its recipient, unless partitioned away, dropped by a test filter, or the node is down. */
    void deliver(Message m, boolean mayBatch) {
        SimNode to = byId.get(m.to());
        SimNode from = byId.get(m.from());
        if (to == null || from == null || blocked[from.idx][to.idx] || !to.up || dropIf.test(m)) {
            if (tracing) {
                trace("lost " + m);
            }
            reportSnapshot(m, false);
            return;
        }
        delivered++;
        if (m.reject()) {
            rejections++;
        }
        if (tracing) {
            trace("deliver " + m);
        }
        onDeliver.accept(m);
        snapshots.onDeliver(to, m);
        to.raft.step(m);
        afterInput(to, mayBatch);
        reportSnapshot(m, true);
    }

    /** The sender's runtime learns how a snapshot transfer ended, as a real node's streaming thread reports it. */
    void reportSnapshot(Message m, boolean delivered) {
        SimNode from = byId.get(m.from());
        if (m.type() == MessageType.SNAPSHOT && from != null && from.up) {
            from.raft.reportSnapshot(m.to(), delivered);
            afterInput(from, false);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Clients

    /** Completes {@code op} for client {@code c}, unless the client already gave up on it. */
    private void complete(Client c, History.Op op, String readValue) {
        if (c.op == null || c.op != op) {
            return;
        }
        history.complete(c.op, readValue, ++clock);
        if (tracing) {
            trace("client c" + c.id + " done " + c.op);
        }
        c.op = null;
        c.opsDone++;
    }

    private void abandon(Client c, History.Op op) {
        if (c.op == null || c.op != op) {
            return;
        }
        history.abandon(c.op);
        if (tracing) {
            trace("client c" + c.id + " abandons " + c.op);
        }
        c.op = null;
    }

    private void fail(Client c, History.Op op) {
        if (c.op == null || c.op != op) {
            return;
        }
        history.fail(c.op);
        if (tracing) {
            trace("client c" + c.id + " failed " + c.op);
        }
        c.op = null;
    }

    /** Client {@code c} writes a fresh value to a key at node {@code n}; returns the proposed entry or null. */
    private Entry clientWrite(Client c, SimNode n, String key) {
        String value = "v" + (++opCounter);
        Entry e = n.raft.propose(EntryType.COMMAND, KvCommand.put(key, value));
        if (e == null) {
            if (tracing) {
                trace("client c" + c.id + " write " + key + "=" + value + " refused by " + describe(n));
            }
            return null; // definitely not written: not part of the history
        }
        c.op = history.invoke(c.id, key, true, value, ++clock);
        c.since = step;
        n.writes.put(e.index(), new PendingWrite(c, c.op, e));
        if (tracing) {
            trace("client c" + c.id + " invokes " + c.op + " at " + n.id + " as " + e);
        }
        return e;
    }

    /** Client {@code c} starts a read of {@code key} at node {@code n}; returns the operation. */
    private History.Op clientRead(Client c, SimNode n, String key) {
        History.Op op = history.invoke(c.id, key, false, null, ++clock);
        c.op = op;
        if (opt.mutation == Mutation.LOCAL_READS) {
            complete(c, op, n.kv.get(key));
            return op;
        }
        long reqId = nextRequestId++;
        c.since = step;
        n.reads.put(reqId, new PendingRead(c, c.op));
        if (tracing) {
            trace("client c" + c.id + " invokes " + c.op + " at " + n.id + " req " + reqId);
        }
        n.raft.readIndex(reqId);
        return op;
    }

    private SimNode pickClientTarget() {
        List<SimNode> leaders = new ArrayList<>();
        List<SimNode> up = new ArrayList<>();
        for (SimNode n : nodes) {
            if (n.up) {
                up.add(n);
                if (n.raft.role() == Role.LEADER) {
                    leaders.add(n);
                }
            }
        }
        if (up.isEmpty()) {
            return null;
        }
        if (!leaders.isEmpty() && rnd.nextInt(10) != 0) {
            return leaders.get(rnd.nextInt(leaders.size()));
        }
        return up.get(rnd.nextInt(up.size()));
    }

    void clientOp(boolean write) {
        List<Client> idle = new ArrayList<>();
        for (Client c : clients) {
            if (c.op == null) {
                idle.add(c);
            }
        }
        if (idle.isEmpty()) {
            return;
        }
        Client c = idle.get(rnd.nextInt(idle.size()));
        SimNode n = pickClientTarget();
        if (n == null) {
            return;
        }
        String key = "k" + rnd.nextInt(opt.keys);
        if (write) {
            clientWrite(c, n, key);
        } else {
            clientRead(c, n, key);
        }
        afterInput(n, true);
    }

    void clientTimeouts() {
        for (Client c : clients) {
            if (c.op != null && step - c.since > opt.opTimeout) {
                for (SimNode n : nodes) {
                    n.writes.values().removeIf(w -> w.client() == c);
                    n.reads.values().removeIf(r -> r.client == c);
                }
                abandon(c, c.op);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Chaos

    /** One random action (see {@link SimChaos}). */
    public void chaosStep() {
        chaosDriver.step();
    }

    void releaseDelayed(boolean all) {
        for (int i = 0; i < delayed.size(); i++) {
            if (all || delayedUntil.get(i) <= step) {
                Message m = delayed.remove(i);
                delayedUntil.remove(i);
                i--;
                network.add(m);
                if (tracing) {
                    trace("release delayed " + m);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Controlled operations (targeted tests, and the liveness phase)

    public void heal() {
        for (boolean[] row : blocked) {
            Arrays.fill(row, false);
        }
        if (tracing) {
            trace("heal");
        }
    }

    /** Cuts {@code id} off from everyone, both ways. */
    public void isolate(String id) {
        int i = byId.get(id).idx;
        for (int j = 0; j < nodes.size(); j++) {
            if (j != i) {
                blocked[i][j] = true;
                blocked[j][i] = true;
            }
        }
        if (tracing) {
            trace("isolate " + id);
        }
    }

    /** Splits the cluster into the given groups (nodes in no group are isolated). */
    public void partition(Collection<Set<String>> groups) {
        int[] g = new int[nodes.size()];
        Arrays.fill(g, -1);
        int k = 0;
        for (Set<String> group : groups) {
            for (String id : group) {
                g[byId.get(id).idx] = k;
            }
            k++;
        }
        for (int i = 0; i < g.length; i++) {
            for (int j = 0; j < g.length; j++) {
                blocked[i][j] = i != j && (g[i] < 0 || g[i] != g[j]);
            }
        }
    }

    /** Blocks messages from {@code from} to {@code to} (one direction). */
    public void block(String from, String to) {
        blocked[byId.get(from).idx][byId.get(to).idx] = true;
    }

    public void tick(String id) {
        SimNode n = byId.get(id);
        if (n.up) {
            n.raft.tick();
            afterInput(n, false);
        }
    }

    public void tickAll() {
        for (SimNode n : nodes) {
            if (n.up) {
                n.raft.tick();
                afterInput(n, false);
            }
        }
    }

    /** Delivers every message in flight, and whatever that causes, in FIFO order until the network is quiet. */
    public void deliverAll() {
        int rounds = 0;
        while (!network.isEmpty()) {
            List<Message> batch = new ArrayList<>(network);
            network.clear();
            for (Message m : batch) {
                deliver(m, false);
            }
            if (++rounds > 100_000) {
                throw new SafetyViolation("the network never quiets down");
            }
        }
        checker.afterStep();
    }

    /** {@code ticks} rounds of: tick every node, deliver everything. */
    public void runTicks(int ticks) {
        for (int t = 0; t < ticks; t++) {
            tickAll();
            deliverAll();
        }
    }

    /** Runs tick rounds until {@code done} holds; returns the rounds used, or fails after {@code maxTicks}. */
    public int runUntil(BooleanSupplier done, int maxTicks, String what) {
        for (int t = 0; t <= maxTicks; t++) {
            if (done.getAsBoolean()) {
                return t;
            }
            tickAll();
            deliverAll();
        }
        throw new SafetyViolation("liveness: " + what + " not reached within " + maxTicks + " ticks; " + describeCluster());
    }

    /** The up node that is leader in the highest term, or null. */
    public String leader() {
        SimNode best = null;
        for (SimNode n : nodes) {
            if (n.up && n.raft.role() == Role.LEADER && (best == null || n.raft.term() > best.raft.term())) {
                best = n;
            }
        }
        return best == null ? null : best.id;
    }

    /**
     * A leader that every up member of its configuration agrees on (same term, same leader), or null. Servers outside
     * it (removed, or never added) need not know it.
     */
    public String stableLeader() {
        String l = leader();
        if (l == null) {
            return null;
        }
        long term = byId.get(l).raft.term();
        Configuration c = byId.get(l).raft.configuration();
        for (SimNode n : nodes) {
            if (n.up && c.isMember(n.id) && (n.raft.term() != term || !l.equals(n.raft.leader()))) {
                return null;
            }
        }
        return l;
    }

    /** Proposes a membership change at {@code id} and handles the Ready; a refusal propagates to the caller. */
    public Entry proposeConfChange(String id, ConfChange change) {
        SimNode n = byId.get(id);
        try {
            return n.raft.proposeConfChange(change);
        } finally {
            afterInput(n, false);
        }
    }

    /** Takes a snapshot on {@code id} at its applied index and compacts its log (margin 0..compactionMargin). */
    public void snapshot(String id) {
        snapshots.take(byId.get(id));
    }

    /** Proposes {@code put key value} at {@code id} outside the client history; handles the Ready. */
    public Entry propose(String id, String key, String value) {
        SimNode n = byId.get(id);
        Entry e = n.raft.propose(EntryType.COMMAND, KvCommand.put(key, value));
        afterInput(n, false);
        return e;
    }

    /** Asks leader {@code id} to hand leadership to {@code target}; handles the Ready. */
    public boolean transferLeadership(String id, String target) {
        SimNode n = byId.get(id);
        boolean started = n.raft.transferLeadership(target);
        afterInput(n, false);
        return started;
    }

    /** Issues a ReadIndex request at {@code id}; its ReadState shows up in {@link SimNode#readStates}. */
    public void readIndex(String id, long requestId) {
        SimNode n = byId.get(id);
        n.raft.readIndex(requestId);
        afterInput(n, false);
    }

    /** Steps a hand-made message into a node (targeted tests) and handles the Ready. */
    public void inject(Message m) {
        deliver(m, false);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Whole runs

    /**
     * After the chaos: heal the network, restart every node, then require (within {@code maxTicks} tick rounds, no
     * faults) a leader everyone agrees on and a fresh client write applied on every node. Returns the ticks used.
     */
    public int stabilize(int maxTicks) {
        chaos = false;
        heal();
        releaseDelayed(true); // stale messages still arrive after the heal
        for (SimNode n : nodes) {
            if (!n.up) {
                restart(n, rnd.nextBoolean());
            }
        }
        for (SimNode n : nodes) {
            if (n.dirty) {
                handleReady(n, false);
            }
        }
        Client c = new Client(clients.size());
        clients.add(c);
        Entry target = null;
        History.Op op = null;
        SimNode proposer = null;
        for (int t = 0; t <= maxTicks; t++) {
            if (target != null && op.status == History.Status.OK && allApplied(target)) {
                checkConverged();
                if (tracing) {
                    trace("write applied everywhere after " + t + " ticks: " + describeCluster());
                }
                return t + finalRead(c, maxTicks - t);
            }
            String l = stableLeader();
            boolean needWrite = target == null
                    || op.status == History.Status.UNKNOWN || op.status == History.Status.FAILED
                    || (op.status == History.Status.PENDING && (!proposer.up || proposer.raft.role() != Role.LEADER));
            if (l != null && needWrite) {
                abandon(c, c.op);
                proposer = byId.get(l);
                target = clientWrite(c, proposer, "k0");
                op = c.op;
                afterInput(proposer, false);
            }
            tickAll();
            deliverAll();
        }
        throw new SafetyViolation("liveness violated: no leader committed a new write on every node within " + maxTicks
                + " ticks after healing; " + describeCluster());
    }

    /** A linearizable read at the leader must complete too (ReadIndex liveness). Returns the ticks used. */
    private int finalRead(Client c, int maxTicks) {
        History.Op read = null;
        for (int t = 0; t <= maxTicks; t++) {
            if (read != null && read.status == History.Status.OK) {
                if (tracing) {
                    trace("final read done after " + t + " more ticks: " + read);
                }
                return t;
            }
            String l = stableLeader();
            if (c.op == null && l != null) {
                SimNode n = byId.get(l);
                read = clientRead(c, n, "k0");
                afterInput(n, false);
                continue;
            }
            tickAll();
            deliverAll();
        }
        throw new SafetyViolation("liveness violated: a ReadIndex read at a stable leader did not complete within " + maxTicks
                + " ticks; " + describeCluster());
    }

    /** The servers of the current leader's configuration (everyone, without a leader or membership changes). */
    private List<SimNode> members() {
        Configuration c = membership.leaderConfiguration();
        return c == null ? nodes : nodes.stream().filter(n -> c.isMember(n.id)).toList();
    }

    private boolean allApplied(Entry e) {
        if (checker.committed.size() < e.index() || !checker.committed.get((int) e.index() - 1).equals(e)) {
            return false;
        }
        for (SimNode n : members()) {
            if (!n.up || n.applied < e.index()) {
                return false;
            }
        }
        return true;
    }

    private void checkConverged() {
        List<SimNode> members = members();
        for (SimNode n : members) {
            if (n.applied != members.get(0).applied) {
                return; // still applying: the state machines are compared at equal applied indexes only
            }
        }
        for (SimNode n : members) {
            if (!n.kv.equals(members.get(0).kv)) {
                throw new SafetyViolation("state machines diverged at applied index " + n.applied + ": " + members.get(0).id + "="
                        + members.get(0).kv + " " + n.id + "=" + n.kv);
            }
        }
    }

    /** End-of-run checks: full log comparison and linearizability of the client history. */
    public LinearizabilityChecker.Result finish() {
        for (Client c : clients) {
            abandon(c, c.op);
        }
        checker.fullCheck();
        LinearizabilityChecker.Result r = new LinearizabilityChecker().check(history.forChecker());
        if (!r.ok()) {
            throw new SafetyViolation("linearizability violated: " + r);
        }
        return r;
    }
}
