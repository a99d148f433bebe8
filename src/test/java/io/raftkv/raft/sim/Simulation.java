package io.raftkv.raft.sim;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogStorage;
import io.raftkv.raft.MemoryLogStorage;
import io.raftkv.raft.Message;
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
 * a key-value state machine ({@link SimKv}: the real command encoding and client sessions), connected by a simulated
 * network that can drop, duplicate, reorder and delay messages and be partitioned ({@link SimNetwork}), used by
 * clients that retry with sessions, compare-and-set and delete ({@link SimClients}). Everything (election jitter
 * included) comes from one seeded {@link Random}, so a run is reproducible from its seed alone.
 * <p>
 * Two ways to drive it: {@link #chaosStep()} picks one random action per step (the randomized test, {@link SimChaos}),
 * and the controlled methods ({@link #tickAll()}, {@link #deliverAll()}, {@link #isolate}, {@link #propose}, ...)
 * script a scenario (the targeted tests). The {@link SafetyChecker} watches every input and every Ready; a whole run
 * is chaos, then {@link #stabilize} (heal, then liveness), then {@link #finish} (the end-of-run checks).
 * <p>
 * Each node's runtime ({@link SimRuntime}) handles Readies per the contract in {@link Ready}, or in the real runtime's
 * order. A node may take several inputs before its Ready is handled (as a batching runtime would); whatever it has not
 * persisted is lost if it crashes ({@link #crash}, {@link #restart}); snapshots are {@link SimSnapshots}, membership
 * changes {@link SimMembership}.
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
        SimKv kv = new SimKv();
        long applied;
        SimKv kvDurable = new SimKv();
        long appliedDurable;
        /** runtimeOrder: a hard state whose only change was the commit index, not saved yet (lost in a crash). */
        HardState unsavedHardState;
        /** The newest snapshot (durable), and snapshot data received with a SNAPSHOT message (lost in a crash). */
        SimSnapshots.SimSnapshot snapshot;
        SimSnapshots.SimSnapshot incomingSnapshot;
        long commitSeen;
        /** Client attempts waiting here: writes by log index, reads by request id. */
        final TreeMap<Long, SimClients.Attempt> writes = new TreeMap<>();
        final LinkedHashMap<Long, SimClients.Attempt> reads = new LinkedHashMap<>();
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

        /** The state machine's values by key. */
        public Map<String, String> kv() {
            return kv.values();
        }

        /** The state machine (values, versions, client sessions). */
        public SimKv state() {
            return kv;
        }

        public long applied() {
            return applied;
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
    /** The network: messages in flight (an alias of {@link SimNetwork#inFlight}) and the blocked links. */
    final SimNetwork net;
    final List<Message> network;
    final boolean[][] blocked;
    final SimSnapshots snapshots;
    final SimMembership membership;
    private final SimChaos chaosDriver = new SimChaos(this);
    final SafetyChecker checker;
    final SimClients clients;
    private final SimRuntime runtime = new SimRuntime(this);
    private final ArrayDeque<String> traceBuffer = new ArrayDeque<>();
    final boolean tracing;
    long step;
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
    long transfersStarted;

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
        this.net = new SimNetwork(this, ids.size());
        this.network = net.inFlight;
        this.blocked = net.blocked;
        this.checker = new SafetyChecker(this, membership.bootstrap());
        this.checker.checkVotes = opt.checkVotes;
        this.checker.checkCommitQuorum = opt.checkCommitQuorum;
        this.checker.dedupe = opt.mutation != Mutation.NO_SESSION_DEDUP;
        this.checker.conditions = opt.mutation != Mutation.IGNORE_CONDITIONS;
        // Its own random source: runs without snapshots see the same chaos as before snapshots existed.
        this.snapshots = new SimSnapshots(new Random(opt.seed * 31 + 7), checker, opt.compactionMargin);
        this.clients = new SimClients(this, opt);
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
        return clients.history();
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

    String describe(SimNode n) {
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
        clients.crashed(n);
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
            n.kvDurable = new SimKv();
            n.appliedDurable = 0;
        }
        n.kv = n.kvDurable.copy();
        n.applied = n.appliedDurable;
        snapshots.reconcileOnRestart(n, opt.mutation == Mutation.SKIP_SNAPSHOT_LOAD);
        boot(n);
    }

    /** Makes the state machine's current state durable (what a snapshot or an fsync'd store would do). */
    void flushStateMachine(SimNode n) {
        n.kvDurable = n.kv.copy();
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

    /** Handles every Ready the node has (see {@link SimRuntime}); with {@code crashAfterPersist}, crashes after the first save. */
    void handleReady(SimNode n, boolean crashAfterPersist) {
        runtime.handleReady(n, crashAfterPersist);
    }

    void deliver(Message m, boolean mayBatch) {
        runtime.deliver(m, mayBatch);
    }

    void reportSnapshot(Message m, boolean delivered) {
        runtime.reportSnapshot(m, delivered);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Chaos

    /** One random action (see {@link SimChaos}). */
    public void chaosStep() {
        chaosDriver.step();
    }

    void releaseDelayed(boolean all) {
        net.releaseDelayed(all);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Controlled operations (targeted tests, and the liveness phase)

    public void heal() {
        net.heal();
    }

    /** Cuts {@code id} off from everyone, both ways. */
    public void isolate(String id) {
        net.isolate(byId.get(id).idx, id);
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
        net.partition(g);
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
        return proposeCommand(id, KvCommand.put(key, value));
    }

    /**
     * Proposes a command in the real encoding (a session write, a CAS...) at {@code id} outside the client history;
     * handles the Ready. An appended session write counts as an attempt of its request for the end-of-run checks.
     */
    public Entry proposeCommand(String id, byte[] command) {
        SimNode n = byId.get(id);
        Entry e = n.raft.propose(EntryType.COMMAND, command);
        if (e != null) {
            clients.appendedOutside(e);
        }
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
        SimClients.Client c = clients.newClient();
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
                clients.giveUp(c.req);
                proposer = byId.get(l);
                SimClients.Request req = clients.write(c, proposer, LinearizabilityChecker.Kind.WRITE, "k0", 1);
                target = req.lastEntry;
                op = req.op;
                afterInput(proposer, false);
            }
            tickAll();
            deliverAll();
        }
        throw new SafetyViolation("liveness violated: no leader committed a new write on every node within " + maxTicks
                + " ticks after healing; " + describeCluster());
    }

    /** A linearizable read at the leader must complete too (ReadIndex liveness). Returns the ticks used. */
    private int finalRead(SimClients.Client c, int maxTicks) {
        History.Op read = null;
        for (int t = 0; t <= maxTicks; t++) {
            if (read != null && read.status == History.Status.OK) {
                if (tracing) {
                    trace("final read done after " + t + " more ticks: " + read);
                }
                return t;
            }
            String l = stableLeader();
            if (c.req == null && l != null) {
                SimNode n = byId.get(l);
                read = clients.read(c, n, "k0", 1);
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

    /**
     * End-of-run checks: full log comparison, the client requests (the 503 contract, at most once), and
     * linearizability of the client history.
     */
    public LinearizabilityChecker.Result finish() {
        clients.giveUpAll();
        checker.fullCheck();
        clients.checkRequests(checker.committed);
        LinearizabilityChecker.Result r = new LinearizabilityChecker().check(history().forChecker());
        if (!r.ok()) {
            throw new SafetyViolation("linearizability violated: " + r);
        }
        return r;
    }
}
