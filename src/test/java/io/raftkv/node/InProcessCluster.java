package io.raftkv.node;

import io.raftkv.events.EventLog;
import io.raftkv.raft.MemoryLogStorage;
import io.raftkv.raft.Message;
import io.raftkv.raft.Role;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.transport.PeerTransport;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Real {@link RaftNode}s in one JVM: real loops, tickers and KV stores (in a temporary directory), an in-memory log
 * per node that survives a node's stop (as its disk would), and a transport that hands messages straight to the
 * addressee's {@link RaftNode#receive} unless a node is stopped or cut off.
 */
final class InProcessCluster implements AutoCloseable {

    final List<String> ids = new ArrayList<>();
    private final Path dir;
    private final Map<String, URI> members = new ConcurrentHashMap<>();
    private final int initialSize;
    private volatile MembershipListener membership = MembershipListener.NONE;
    private final Map<String, MemoryLogStorage> logs = new ConcurrentHashMap<>();
    /** Nodes whose next log write fails, as an fsync that returns EIO would (see {@link #failLogWrites}). */
    private final Set<String> failingLogs = ConcurrentHashMap.newKeySet();
    private final Map<String, Throwable> fatal = new ConcurrentHashMap<>();
    private final Map<String, KvStateMachine> stores = new ConcurrentHashMap<>();
    private final Map<String, EventLog> events = new ConcurrentHashMap<>();
    final Map<String, RaftNode> nodes = new ConcurrentHashMap<>();
    private final Set<String> cutOff = ConcurrentHashMap.newKeySet();
    private final int maxPendingWrites;
    private volatile boolean watching;
    private final Map<String, io.raftkv.watch.WatchHub> hubs = new ConcurrentHashMap<>();

    InProcessCluster(Path dir, int size, int maxPendingWrites) {
        this.dir = dir;
        this.maxPendingWrites = maxPendingWrites;
        this.initialSize = size;
        for (int i = 1; i <= size; i++) {
            String id = "n" + i;
            ids.add(id);
            members.put(id, URI.create("http://127.0.0.1:1/" + id)); // never dialled
        }
    }

    RaftNode start(String id) {
        return start(id, ids.subList(0, initialSize));
    }

    /** Starts a server that is not in the initial configuration: it waits to be added. */
    RaftNode startJoining(String id) {
        members.putIfAbsent(id, URI.create("http://127.0.0.1:1/" + id));
        return start(id, List.of());
    }

    private RaftNode start(String id, List<String> bootstrapVoters) {
        NodeSettings settings = new NodeSettings(id, members, Duration.ofMillis(5), 2, 20, Duration.ofSeconds(3),
                Duration.ofMillis(200), 1 << 20, 64, 1_000_000, 1L << 30, 1000, maxPendingWrites, 64L << 20,
                bootstrapVoters);
        MemoryLogStorage log = logs.computeIfAbsent(id, k -> new MemoryLogStorage());
        KvStateMachine sm = KvStateMachine.open(dir.resolve(id));
        stores.put(id, sm);
        EventLog ev = events.computeIfAbsent(id, k -> EventLog.open(dir.resolve(k), k));
        io.raftkv.statemachine.StateMachine applied = sm;
        if (watching) { // a new hub per start, as a restarted process has
            io.raftkv.watch.WatchHub hub = new io.raftkv.watch.WatchHub(io.raftkv.watch.WatchSettings.DEFAULTS, () -> log);
            hubs.put(id, hub);
            applied = new io.raftkv.watch.WatchingStateMachine(sm, hub);
        }
        RaftNode node = new RaftNode(settings, new FaultyLog(id, log), applied, new Router(id), new NoSnapshots(), ev, null,
                new Random(id.hashCode()), t -> fatal.put(id, t));
        node.membership(membership);
        nodes.put(id, node);
        node.start();
        return node;
    }

    /** From now on every write to {@code id}'s log fails (nothing of it reaches the disk), until {@link #repairLog}. */
    void failLogWrites(String id) {
        failingLogs.add(id);
    }

    void repairLog(String id) {
        failingLogs.remove(id);
    }

    /** What stopped {@code id}'s loop, or null. */
    Throwable fatal(String id) {
        return fatal.get(id);
    }

    /** The log of a node as its runtime sees it: writes fail while the node is in {@link #failingLogs}. */
    private final class FaultyLog implements io.raftkv.raft.WritableLogStorage {
        private final String id;
        private final MemoryLogStorage disk;

        FaultyLog(String id, MemoryLogStorage disk) {
            this.id = id;
            this.disk = disk;
        }

        private void check() {
            if (failingLogs.contains(id)) {
                throw new io.raftkv.storage.StorageException("injected: fsync of " + id + "'s log failed (EIO)");
            }
        }

        @Override
        public io.raftkv.raft.HardState hardState() {
            return disk.hardState();
        }

        @Override
        public long firstIndex() {
            return disk.firstIndex();
        }

        @Override
        public long lastIndex() {
            return disk.lastIndex();
        }

        @Override
        public long term(long index) {
            return disk.term(index);
        }

        @Override
        public List<io.raftkv.raft.Entry> entries(long lo, long hi, long maxBytes) {
            return disk.entries(lo, hi, maxBytes);
        }

        @Override
        public void save(io.raftkv.raft.HardState hs, List<io.raftkv.raft.Entry> entries) {
            check();
            disk.save(hs, entries);
        }

        @Override
        public void compact(long throughIndex) {
            check();
            disk.compact(throughIndex);
        }

        @Override
        public void resetTo(SnapshotMeta s) {
            check();
            disk.resetTo(s);
        }
    }

    /** Every node started from now on hears of membership changes through {@code l}. */
    void membership(MembershipListener l) {
        membership = l;
    }

    void startAll() {
        ids.forEach(id -> start(id));
    }

    /** Graceful stop: what SIGTERM does (hands leadership over, answers pending writes). */
    void stop(String id) {
        RaftNode n = nodes.remove(id);
        if (n != null) {
            n.close();
        }
        KvStateMachine sm = stores.remove(id);
        if (sm != null) {
            sm.close();
        }
    }

    /** Every node started from now on feeds a watch hub ({@link #hub}). */
    void watching() {
        watching = true;
    }

    io.raftkv.watch.WatchHub hub(String id) {
        return hubs.get(id);
    }

    MemoryLogStorage log(String id) {
        return logs.get(id);
    }

    void cut(String id) {
        cutOff.add(id);
    }

    KvStateMachine store(String id) {
        return stores.get(id);
    }

    String leader() {
        for (Map.Entry<String, RaftNode> e : nodes.entrySet()) {
            if (e.getValue().role() == Role.LEADER) {
                return e.getKey();
            }
        }
        return null;
    }

    String awaitLeader() {
        await("a leader", () -> leader() != null);
        return leader();
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos(); // generous: shared CI machines
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    @Override
    public void close() {
        new ArrayList<>(nodes.keySet()).forEach(this::stop);
        events.values().forEach(EventLog::close);
    }

    private final class Router implements PeerTransport {
        private final String from;

        Router(String from) {
            this.from = from;
        }

        @Override
        public void send(List<Message> messages) {
            if (cutOff.contains(from)) {
                return;
            }
            for (Message m : messages) {
                RaftNode to = nodes.get(m.to());
                if (to != null && !cutOff.contains(m.to())) {
                    to.receive(List.of(m));
                }
            }
        }

        @Override
        public void close() {
        }
    }

    /** This harness never compacts (the thresholds are out of reach), so no snapshot is ever needed. */
    private static final class NoSnapshots implements NodeSnapshots {
        @Override
        public SnapshotMeta latest() {
            return SnapshotMeta.NONE;
        }

        @Override
        public long latestSizeBytes() {
            return 0;
        }

        @Override
        public CompletableFuture<SnapshotMeta> start(SnapshotMeta at) {
            return CompletableFuture.failedFuture(new UnsupportedOperationException("no snapshots in this harness"));
        }

        @Override
        public boolean inProgress() {
            return false;
        }

        @Override
        public void install(SnapshotMeta s) {
            throw new UnsupportedOperationException("no snapshots in this harness");
        }

        @Override
        public CompletableFuture<Boolean> send(Message snapshotMessage) {
            return CompletableFuture.completedFuture(false);
        }

        @Override
        public long receivedSnapshot() {
            return 0;
        }

        @Override
        public void close() {
        }
    }
}
