package io.raftkv.server;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.raftkv.events.EventLog;
import io.raftkv.node.NodeSettings;
import io.raftkv.node.RaftNode;
import io.raftkv.membership.ForceNewCluster;
import io.raftkv.membership.Identity;
import io.raftkv.membership.MemberContext;
import io.raftkv.membership.MemberDirectory;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.ConfigEntry;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.snapshot.KvNodeSnapshots;
import io.raftkv.snapshot.SnapshotInfo;
import io.raftkv.snapshot.SnapshotRestore;
import io.raftkv.snapshot.SnapshotStore;
import io.raftkv.storage.DiskFullException;
import io.raftkv.storage.DiskSpace;
import io.raftkv.storage.RaftLogStore;
import io.quarkus.scheduler.Scheduled;
import io.raftkv.storage.RaftLogStores;
import io.raftkv.peer.PeerListener;
import io.raftkv.peer.PeerTls;
import io.raftkv.peer.StreamPeerTransport;
import io.raftkv.transport.PeerAnswers;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.URI;
import java.nio.file.Path;
import java.security.Security;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Quarkus wiring: builds one node from {@link RaftkvConfig} at startup (storage, state machine, event log, transport,
 * runtime) and closes it cleanly at shutdown. A storage that cannot be opened stops the process with a non-zero exit
 * and a message naming the file; nothing is overwritten.
 */
@ApplicationScoped
public class RaftkvServer {

    private static final Logger LOG = Logger.getLogger(RaftkvServer.class);

    @Inject
    RaftkvConfig config;

    @Inject
    Vertx vertx;

    private volatile RaftNode node;
    private volatile RaftLogStore logStorage;
    private volatile KvStateMachine stateMachine;
    private io.raftkv.watch.WatchHub watchHub;
    private EventLog events;
    private StreamPeerTransport transport;
    private volatile PeerListener peerListener;
    private volatile PeerTls peerTls;
    private volatile String peerTlsStamp;
    private final NodePeerGate peerGate = new NodePeerGate(this);
    private volatile KvNodeSnapshots snapshots;
    private volatile Map<String, URI> members;
    private volatile MemberDirectory directory;
    private volatile Identity identity;
    /** Peers that refuse this node's messages as another incarnation of its id, with what they said. */
    private final Map<String, String> refusingPeers = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicLong> refusedMessages = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Set<String> refusalsLogged = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Map<String, Long> registrationProposed = new java.util.concurrent.ConcurrentHashMap<>();
    private Path dataDir;
    private volatile DiskSpace diskSpace;
    private volatile io.raftkv.node.NodeObserver observer = io.raftkv.node.NodeObserver.NONE;
    private volatile io.raftkv.peer.PeerStats peerStats = io.raftkv.peer.PeerStats.NONE;
    /** Why the Raft side is stopped for lack of disk space, or null while it runs (or has not started). */
    private volatile String diskFull;
    private final AtomicLong diskFullEpisodes = new AtomicLong();
    /** Set from the first sign of a full disk until the node has restarted: one stop per episode. */
    private final AtomicBoolean stoppingForDiskFull = new AtomicBoolean();

    void onStart(@Observes StartupEvent event) {
        // A restarted peer must be reachable again at once: do not cache DNS answers (containers change IPs).
        Security.setProperty("networkaddress.cache.ttl", "1");
        Security.setProperty("networkaddress.cache.negative.ttl", "0");
        try {
            start();
        } catch (RuntimeException e) {
            if (DiskSpace.isOutOfSpace(e)) {
                closeQuietly();
                waitForSpace(e); // serves stale reads if it can, and resumes once space is freed
                return;
            }
            LOG.errorf("raftkv node %s cannot start: %s", config.nodeId(), e.getMessage());
            closeQuietly();
            Quarkus.asyncExit(2);
            throw e;
        }
    }

    private void start() {
        Map<String, URI> configured = Members.parse(config.peers(), config.nodeId(), config.advertiseUrl().orElse(null));
        dataDir = Path.of(config.dataDir().orElse("data/" + config.nodeId())).toAbsolutePath().normalize();
        io.raftkv.storage.MapDbFiles.prepareDataDir(dataDir);
        directory = new MemberDirectory(dataDir, config.nodeId(), configured, Members.parsePeerUrls(config.peerUrls().orElse(null)));
        members = directory.view();
        identity = Identity.open(dataDir, bootstrapVoters(configured), config.clusterToken());
        // The bootstrap configuration is the one recorded at the first start: a changed raftkv.peers or
        // initial-cluster-state on a later start (a chart scaled up) must not change it.
        List<String> bootstrap = identity.bootstrapVoters() != null ? identity.bootstrapVoters() : bootstrapVoters(configured);
        if (diskSpace == null) {
            diskSpace = new DiskSpace(dataDir, config.minFreeDiskBytes());
        }
        long tickNanos = config.tick().toNanos();
        if (tickNanos < Duration.ofMillis(1).toNanos()) {
            throw new IllegalArgumentException("raftkv.tick must be at least 1ms");
        }
        int heartbeatTicks = (int) Math.max(1, config.heartbeatInterval().toNanos() / tickNanos);
        int electionTicks = (int) Math.max(heartbeatTicks + 1, config.electionTimeout().toNanos() / tickNanos);
        NodeSettings settings = new NodeSettings(config.nodeId(), members, config.tick(), heartbeatTicks, electionTicks,
                config.requestTimeout(), config.applyFlushInterval(), config.maxMessageBytes(), config.maxInflight(),
                config.snapshotThreshold(), config.snapshotThresholdBytes(), config.snapshotLogMargin(),
                config.maxPendingWrites(), config.maxPendingWriteBytes(), bootstrap);

        RaftLogStores.Kind logStore = RaftLogStores.Kind.parse(config.logStore());
        events = EventLog.open(dataDir, config.nodeId());
        logStorage = RaftLogStores.open(logStore, dataDir, config.walSegmentBytes());
        SnapshotStore snapshotStore = SnapshotStore.open(dataDir);
        reconcileLogWithSnapshot(snapshotStore);
        if (config.forceNewCluster()) {
            forceNewCluster(snapshotStore, settings.bootstrapVoters());
        }
        stateMachine = SnapshotRestore.openStateMachine(dataDir, snapshotStore, logStorage.firstIndex(), why -> {
            LOG.warnf("raftkv node %s: %s", config.nodeId(), why);
            events.log(why);
        });
        // The restart rule: a state machine behind the newest snapshot (or missing) is loaded from it.
        SnapshotRestore.Result restored = SnapshotRestore.restore(stateMachine, snapshotStore, logStorage.firstIndex());
        restored.installed().ifPresent(m -> events.log("state machine loaded from snapshot " + m + " at start"));
        restored.setAside().forEach(p -> events.log("damaged snapshot set aside: " + p));
        if (diskSpace.belowMinimum()) {
            throw new DiskFullException(diskSpace.usableBytes() + " bytes free at start, fewer than the "
                    + diskSpace.minFreeBytes() + " that must stay free");
        }
        if (config.peerTls() && peerTls == null) {
            Path dir = Path.of(config.peerTlsDir());
            peerTls = new PeerTls(Path.of(config.peerTlsCert().orElse(dir.resolve(config.nodeId() + ".crt").toString())),
                    Path.of(config.peerTlsKey().orElse(dir.resolve(config.nodeId() + ".key").toString())),
                    Path.of(config.peerTlsCa().orElse(dir.resolve("ca.crt").toString())));
        }
        if (peerTls != null) {
            warmUpTls();
            peerTlsStamp = peerTls.stamp();
        }
        transport = new StreamPeerTransport(vertx, config.nodeId(), directory::peerUrl, peerTls, config.requestTimeout(),
                config.peerMaxFrameBytes());
        transport.identity(this::senderIdentity, new Answers());
        transport.stats(peerStats);
        snapshots = new KvNodeSnapshots(stateMachine, snapshotStore, config.nodeId(), transport, config.snapshotChunkBytes());
        if (peerListener == null) {
            int port = config.peerPort().orElseGet(() -> directory.peerUrl(config.nodeId()).getPort());
            peerListener = new PeerListener(vertx, config.peerHost(), port, peerTls, config.peerMaxFrameBytes(),
                    config.requestTimeout(), peerGate).start();
        }
        node = new RaftNode(settings, logStorage, new io.raftkv.watch.WatchingStateMachine(stateMachine, watchHub()), transport, snapshots, events, diskSpace, null, this::fatal);
        node.observe(observer);
        node.membership(new AddressBook());
        node.start();
        LOG.infof("raftkv node %s at %s, peers on port %d (%s), data in %s (%s log), members %s", config.nodeId(),
                members.get(config.nodeId()), peerListener.port(), peerTls != null ? "mutual TLS" : "NO TLS: raftkv.peer-tls=false",
                dataDir, config.logStore(), members);
    }

    /** raftkv.force-new-cluster=true: this member alone, on its own data (see ForceNewCluster). */
    private void forceNewCluster(SnapshotStore snapshotStore, List<String> bootstrap) {
        SnapshotMeta latest = snapshotStore.latest().map(info -> snapshotStore.readHeader(info).metaWithConfiguration())
                .orElse(SnapshotMeta.NONE);
        ForceNewCluster.Outcome o = ForceNewCluster.apply(dataDir, logStorage, latest,
                bootstrap.isEmpty() ? io.raftkv.raft.Configuration.EMPTY : io.raftkv.raft.Configuration.ofVoters(bootstrap),
                config.nodeId(), identity);
        LOG.warnf("raftkv node %s: %s", config.nodeId(), o.description());
        events.log(o.description());
        if (o.before() != null) {
            o.before().members().stream().filter(id -> !id.equals(config.nodeId())).forEach(directory::forget);
        }
    }

    /**
     * The JDK's first TLS context (providers, the seeded SecureRandom) is slow to make, seconds on a busy machine;
     * Vert.x would make it on an event loop at the first peer connection, stalling every peer message on that loop.
     * Made here, on the startup thread, instead.
     */
    private static void warmUpTls() {
        try {
            javax.net.ssl.SSLContext.getInstance("TLS").init(null, null, new java.security.SecureRandom());
            javax.net.ssl.SSLContext.getDefault();
            java.security.KeyFactory.getInstance("EC");
        } catch (java.security.GeneralSecurityException e) {
            LOG.warnf("TLS warm-up failed (the first peer connection will be slower): %s", e.getMessage());
        }
    }

    private List<String> bootstrapVoters(Map<String, URI> configured) {
        String state = config.initialClusterState().trim().toLowerCase(java.util.Locale.ROOT);
        return switch (state) {
            case "new" -> configured.keySet().stream().sorted().toList();
            case "existing" -> List.of(); // joins: the configuration comes from the leader
            default -> throw new IllegalArgumentException("raftkv.initial-cluster-state must be 'new' or 'existing', got '"
                    + config.initialClusterState() + "'");
        };
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Identity: the cluster id and this data directory's incarnation in every peer message (see Identity).

    public Identity identity() {
        return identity;
    }

    private StreamPeerTransport.SenderIdentity senderIdentity() {
        Identity id = identity;
        return id == null ? new StreamPeerTransport.SenderIdentity(null, "")
                : new StreamPeerTransport.SenderIdentity(id.clusterId(), id.incarnation());
    }

    /** Whether the peer channel runs mutual TLS (raftkv.peer-tls). */
    public boolean peerTlsOn() {
        return config.peerTls();
    }

    /** Peer connections, batches and chunks the peer listener refused since start, by reason. */
    public Map<String, Long> peerRejections() {
        return peerGate.rejections();
    }

    /** The peer listener's port (once started), or -1. */
    public int peerPort() {
        PeerListener l = peerListener;
        return l == null ? -1 : l.port();
    }

    /** Peer connections this node opened since start (0 before it has a transport). */
    public long peerConnectionsOpened() {
        StreamPeerTransport t = transport;
        return t == null ? 0 : t.connectionsOpened();
    }

    /**
     * A peer message arrived from {@code sender}: null if it is admitted, else why not (counted, and the first time
     * for each sender and reason written to the event log).
     */
    public Identity.Refusal admitPeer(String sender, String cluster, String incarnation) {
        Identity.Refusal r = identity.admit(sender, cluster, incarnation);
        if (r == null) {
            registerIfNeeded(sender, incarnation);
            registerIfNeeded(config.nodeId(), identity.incarnation());
        }
        if (r != null) {
            refusedMessages.computeIfAbsent(r.name().toLowerCase(java.util.Locale.ROOT),
                    k -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
            String what = sender + " " + r + " " + incarnation + " " + cluster;
            if (refusalsLogged.add(what) && events != null) {
                events.log(r == Identity.Refusal.INCARNATION
                        ? "REFUSED " + sender + ": it came back with another data directory (incarnation " + incarnation
                          + ", known as " + identity.peerIncarnation(sender) + "); it neither votes nor counts until it"
                          + " is replaced: POST /v1/members/" + sender + "/replace"
                        : "REFUSED " + sender + ": not of this cluster (cluster " + cluster + ", this is "
                          + identity.clusterId() + ")");
            }
        }
        return r;
    }

    /** Leader: a member whose incarnation the log does not register yet gets an IDENTITY entry (again after 5 s). */
    private void registerIfNeeded(String member, String incarnation) {
        RaftNode n = node;
        if (n == null || n.role() != io.raftkv.raft.Role.LEADER || identity.registeredIncarnation(member) != null) {
            return;
        }
        long now = System.nanoTime();
        Long last = registrationProposed.get(member);
        if (last != null && now - last < 5_000_000_000L) {
            return;
        }
        registrationProposed.put(member, now);
        n.proposeIdentity(Identity.encodeRegistration(member, incarnation));
    }

    /** Peer messages refused since start, by reason (cluster, incarnation). */
    public Map<String, Long> refusedPeerMessages() {
        Map<String, Long> out = new java.util.TreeMap<>();
        refusedMessages.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** Why this node must be replaced (its peers know its id by another data directory), or null. */
    public String mustBeReplaced() {
        if (refusingPeers.isEmpty()) {
            return null;
        }
        return "members " + new java.util.TreeSet<>(refusingPeers.keySet()) + " refuse this node's messages: they know "
                + config.nodeId() + " by another data directory. This node neither votes nor counts; an operator must"
                + " replace it (POST /v1/members/" + config.nodeId() + "/replace on the leader)";
    }

    private final class Answers implements PeerAnswers {
        @Override
        public void accepted(String peerId) {
            if (refusingPeers.remove(peerId) != null && events != null) {
                events.log(peerId + " accepts this node's messages again");
            }
        }

        @Override
        public void refused(String peerId, String reason, String detail) {
            if (Identity.Refusal.INCARNATION.name().equals(reason) && refusingPeers.put(peerId, detail) == null
                    && events != null) {
                events.log("REFUSED BY " + peerId + ": it knows " + config.nodeId() + " by another data directory; this"
                        + " node must be replaced (POST /v1/members/" + config.nodeId() + "/replace on the leader)");
            }
        }
    }

    /** Keeps the address book and the known incarnations in step with the configuration entries of the log. */
    private final class AddressBook implements io.raftkv.node.MembershipListener {
        @Override
        public void appended(ConfigEntry e) {
            if (e.change().type() == ConfChange.Type.ADD_LEARNER) {
                MemberContext ctx = MemberContext.decode(e.change().context());
                if (ctx != null) {
                    directory.learn(e.change().nodeId(), ctx);
                    boolean self = e.change().nodeId().equals(config.nodeId());
                    if (ctx.incarnation() != null && !self) {
                        identity.expect(e.change().nodeId(), ctx.incarnation());
                    }
                    if (self && identity.incarnation().equals(ctx.incarnation()) && !refusingPeers.isEmpty()) {
                        refusingPeers.clear(); // this data directory is the member now
                        events.log("replaced: this data directory (incarnation " + ctx.incarnation() + ") is member "
                                + config.nodeId() + " now");
                    }
                }
            }
        }

        @Override
        public void applied(ConfigEntry e) {
            switch (e.change().type()) {
                case REMOVE -> {
                    directory.forget(e.change().nodeId());
                    identity.forget(e.change().nodeId());
                }
                case PROMOTE -> directory.promoted(e.change().nodeId());
                case FORCE_NEW_CLUSTER -> {
                    // Everyone but the survivor left: their registrations (applied before, on a node that joins the
                    // new cluster) and addresses are of the old cluster.
                    String survivor = e.change().nodeId();
                    identity.forgetAllBut(survivor);
                    directory.view().keySet().stream().filter(id -> !id.equals(survivor)).toList().forEach(directory::forget);
                }
                default -> {
                }
            }
        }

        @Override
        public void identityApplied(long index, byte[] data) {
            if (index < identity.forcedAt()) {
                return; // a registration of the cluster before the forced new one: those members are gone
            }
            try {
                String[] r = Identity.decodeRegistration(data);
                // This node's own registration counts too (else a leader proposes it again every 5 s, forever);
                // one of another incarnation of its id is not this data directory's.
                if (!r[0].equals(config.nodeId()) || r[1].equals(identity.incarnation())) {
                    identity.register(r[0], r[1]);
                }
            } catch (IllegalArgumentException e) {
                LOG.warnf("ignoring a damaged identity entry: %s", e.getMessage());
            }
        }

        @Override
        public boolean autoPromote(String learnerId) {
            return config.autoPromote() && !directory.staysLearner(learnerId);
        }
    }

    public MemberDirectory directory() {
        return directory;
    }

    /**
     * A snapshot received from a leader is durable before the log is reset to it; after a crash in between, the log
     * does not hold the snapshot's point and is reset now (whatever it holds there is uncommitted: the snapshot is of
     * committed state, and a log that disagrees at a committed point agrees on nothing after it).
     */
    private void reconcileLogWithSnapshot(SnapshotStore store) {
        store.latest().map(SnapshotInfo::meta).ifPresent(s -> {
            boolean holds = logStorage.firstIndex() - 1 <= s.index() && s.index() <= logStorage.lastIndex()
                    && logStorage.term(s.index()) == s.term();
            if (!holds) {
                if (s.index() < logStorage.firstIndex() - 1) {
                    throw new IllegalStateException("the raft log starts at " + logStorage.firstIndex()
                            + " but the newest snapshot is " + s + ": entries in between are missing");
                }
                events.log("raft log reset to snapshot " + s + " (an install was interrupted)");
                logStorage.resetTo(s);
            }
        });
    }

    /**
     * Renewed peer certificates (cert-manager, a rotated Secret, new files) are taken without a restart: when the key,
     * certificate or CA file changes, and the new certificate still names this node, the peer listener and the
     * transport use them for every new connection (open ones keep theirs until they end). A replacement that is
     * unreadable or names another node is not taken; the event log says why.
     */
    @Scheduled(every = "${raftkv.peer-tls-reload-interval:10s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void reloadPeerTlsIfChanged() {
        PeerTls tls = peerTls;
        String before = peerTlsStamp;
        if (tls == null || before == null) {
            return;
        }
        String now = tls.stamp();
        if (now.equals(before)) {
            return;
        }
        peerTlsStamp = now;
        String problem = tls.problemFor(config.nodeId());
        EventLog ev = events;
        if (problem != null) {
            LOG.warnf("raftkv node %s: the peer TLS files changed but were not reloaded: %s", config.nodeId(), problem);
            if (ev != null) {
                ev.log("peer TLS files changed but NOT reloaded: " + problem);
            }
            return;
        }
        try {
            PeerListener l = peerListener;
            if (l != null) {
                l.reloadTls(tls.sslOptions()).toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            StreamPeerTransport t = transport;
            if (t != null) {
                t.reloadTls(tls.sslOptions()).toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
            }
            LOG.infof("raftkv node %s: peer TLS certificates reloaded", config.nodeId());
            if (ev != null) {
                ev.log("peer TLS certificates reloaded (new connections use them)");
            }
        } catch (Exception e) {
            LOG.warnf("raftkv node %s: reloading the peer TLS certificates failed: %s", config.nodeId(), e.toString());
            if (ev != null) {
                ev.log("peer TLS reload failed: " + e);
            }
        }
    }

    /** Periodic housekeeping: a snapshot when enough was applied or logged since the last one. */
    @Scheduled(every = "${raftkv.snapshot-check-interval:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void snapshotIfDue() {
        RaftNode n = node;
        if (n != null) {
            n.snapshot(false).exceptionally(e -> null);
        }
    }

    public KvNodeSnapshots snapshots() {
        return snapshots;
    }

    public long logFirstIndex() {
        RaftLogStore l = logStorage;
        return l == null ? 0 : l.firstIndex();
    }

    /** The log store, for read-only views of it (GET /v1/log); null while starting or stopping. */
    public RaftLogStore logStore() {
        return logStorage;
    }

    public long logBytesOnDisk() {
        RaftLogStore l = logStorage;
        return l == null ? 0 : l.sizeOnDiskBytes();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A full disk: stop acknowledging (the Raft side stops as after a crash), keep serving stale reads, and restart
    // from the files once space is freed. The other members go on without this one.

    /** Why the Raft side is stopped for lack of disk space, or null. */
    public String diskFull() {
        return diskFull;
    }

    public long diskFullEpisodes() {
        return diskFullEpisodes.get();
    }

    public DiskSpace diskSpace() {
        return diskSpace;
    }

    /**
     * Checks free space now (a recent reading may be reused) and, when it is below the minimum, stops the Raft side
     * (asynchronously) as a full disk does. Returns why the node is or is about to be stopped, or null if there is room.
     */
    public String checkDiskSpace() {
        return checkDiskSpace(0);
    }

    /** {@link #checkDiskSpace()} for a write of about {@code bytes}: one that would not fit stops the node too. */
    public String checkDiskSpace(long bytes) {
        String full = diskFull;
        if (full != null) {
            return full;
        }
        DiskSpace d = diskSpace;
        if (d == null || d.hasRoomFor(bytes)) {
            return null;
        }
        String why = bytes == 0 || d.belowMinimum()
                ? d.usableBytes() + " bytes free, fewer than the " + d.minFreeBytes() + " that must stay free"
                : "a write of " + bytes + " bytes would leave fewer than the " + d.minFreeBytes()
                  + " bytes that must stay free (" + d.usableBytes() + " free)";
        fatal(new DiskFullException(why));
        return why;
    }

    private void fatal(Throwable t) {
        if (DiskSpace.isOutOfSpace(t)) {
            if (!stoppingForDiskFull.compareAndSet(false, true)) {
                return;
            }
            // Off the failing thread: it may be the node's own loop, which stopping the node waits for.
            Thread stopper = new Thread(() -> stopForDiskFull(t), "raftkv-disk-full");
            stopper.setDaemon(true);
            stopper.start();
            return;
        }
        LOG.errorf(t, "raftkv node %s stopped after a fatal error", config.nodeId());
        Quarkus.asyncExit(3);
    }

    private synchronized void stopForDiskFull(Throwable t) {
        if (diskFull != null) {
            return;
        }
        stopNode();
        for (AutoCloseable c : new AutoCloseable[] {snapshots, logStorage}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                LOG.debug("closing " + c + " after the disk filled up", e);
            }
        }
        snapshots = null;
        logStorage = null;
        KvStateMachine sm = stateMachine;
        if (sm != null && sm.failed()) {
            // Its own write failed half way: MapDB may have left kv.db damaged in ways only a later read finds. It is
            // derived state, so it goes (which also frees its space) and the restart rebuilds it from the newest
            // snapshot and the log. No stale reads until then.
            stateMachine = null;
            try {
                sm.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the failed KV store", e);
            }
            discardKvStore("a write of kv.db failed: " + t.getMessage());
        }
        waitForSpace(t);
    }

    /** Deletes kv.db (derived state) so that the next start rebuilds it from the newest snapshot and the log. */
    private void discardKvStore(String why) {
        try {
            KvStateMachine.discard(dataDir);
            LOG.warnf("raftkv node %s: kv.db discarded (%s); the next start rebuilds it from the newest snapshot and the log",
                    config.nodeId(), why);
            if (events != null) {
                events.log("kv.db discarded (" + why + "): it is rebuilt from the newest snapshot and the log at restart");
            }
        } catch (RuntimeException e) {
            LOG.errorf("raftkv node %s: cannot discard kv.db after a failed write: %s", config.nodeId(), e.getMessage());
        }
    }

    /** Enters the waiting state: stale reads from kv.db where possible, readiness down, 507 for everything else. */
    private synchronized void waitForSpace(Throwable t) {
        stoppingForDiskFull.set(true);
        diskFull = String.valueOf(t.getMessage());
        diskFullEpisodes.incrementAndGet();
        LOG.errorf("raftkv node %s: disk full (%s); not acknowledging until %d bytes are free in %s", config.nodeId(),
                diskFull, diskSpace.resumeFreeBytes(), dataDir);
        if (stateMachine == null) {
            try {
                stateMachine = KvStateMachine.openReadOnly(dataDir);
            } catch (RuntimeException e) {
                LOG.warnf("cannot serve stale reads while the disk is full: %s", e.getMessage());
            }
        }
        try {
            if (events == null) {
                events = EventLog.open(dataDir, config.nodeId());
            }
            events.log("DISK FULL: " + diskFull + "; not acknowledging writes until " + diskSpace.resumeFreeBytes()
                    + " bytes are free");
        } catch (RuntimeException ignored) {
            // the event log is on the same disk
        }
    }

    /**
     * Periodic: a running node whose free space fell below the minimum stops; one stopped by a full disk restarts from
     * its files once enough space is free again.
     */
    @Scheduled(every = "${raftkv.disk-check-interval:1s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void checkSpace() {
        if (diskFull == null) {
            if (node != null) {
                checkDiskSpace(); // a follower notices in its loop; this catches a node with nothing to write
            }
            return;
        }
        resumeWhenSpaceIsFree();
    }

    synchronized void resumeWhenSpaceIsFree() {
        if (diskFull == null || !diskSpace.canResume()) {
            return;
        }
        String was = diskFull;
        long free = diskSpace.usableBytes();
        closeQuietly();
        diskFull = null;
        try {
            start();
        } catch (RuntimeException e) {
            closeQuietly();
            if (DiskSpace.isOutOfSpace(e)) {
                waitForSpace(e);
                return;
            }
            fatal(e);
            return;
        }
        stoppingForDiskFull.set(false);
        events.log("disk space available again (" + free + " bytes free): restarted from the files after: " + was);
        LOG.infof("raftkv node %s resumed after its disk was full", config.nodeId());
    }

    void onStop(@Observes ShutdownEvent event) {
        if (watchHub != null) {
            watchHub.close(); // watchers get their last event before the node goes
        }
        PeerListener l = peerListener;
        peerListener = null;
        if (l != null) {
            l.close();
        }
        closeQuietly();
    }

    /** Stops the Raft node (and with it the peer transport); the stores stay open. */
    private void stopNode() {
        RaftNode n = node;
        node = null;
        try {
            if (n != null) {
                n.close();
            } else if (transport != null) {
                transport.close();
            }
        } catch (RuntimeException e) {
            LOG.warn("error stopping the node", e);
        }
    }

    private synchronized void closeQuietly() {
        stopNode();
        for (AutoCloseable c : new AutoCloseable[] {snapshots, stateMachine, logStorage, events}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                LOG.warn("error closing " + c, e);
                if (c == stateMachine && dataDir != null) {
                    discardKvStore("its last commit failed on close: " + e.getMessage());
                }
            }
        }
        stateMachine = null;
        snapshots = null;
        logStorage = null;
        events = null;
    }

    /** Where every node this server runs (also after a restart for a full disk) reports what it does. */
    /** Where the peer channel's round-trip times and send failures go (metrics); kept across restarts of the node. */
    public void peerStats(io.raftkv.peer.PeerStats s) {
        peerStats = s;
        StreamPeerTransport t = transport;
        if (t != null) {
            t.stats(s);
        }
    }

    public void observe(io.raftkv.node.NodeObserver o) {
        observer = o;
        RaftNode n = node;
        if (n != null) {
            n.observe(o);
        }
    }

    /** The changes this node applies, for watchers (one hub for the life of the process, across node restarts). */
    public synchronized io.raftkv.watch.WatchHub watchHub() {
        if (watchHub == null) {
            watchHub = new io.raftkv.watch.WatchHub(new io.raftkv.watch.WatchSettings(config.watchHistoryEvents(),
                    config.watchHistoryBytes(), config.watchBufferEvents(), config.watchMaxWatchers()), () -> logStorage);
        }
        return watchHub;
    }

    /** The running node, or null while starting or stopping. */
    /** The human-readable event log of this node (null before the first start). */
    public EventLog events() {
        return events;
    }

    public RaftNode node() {
        return node;
    }

    public KvStateMachine stateMachine() {
        return stateMachine;
    }

    public Map<String, URI> members() {
        return members;
    }

    public String nodeId() {
        return config.nodeId();
    }

    public Path dataDir() {
        return dataDir;
    }

    public long droppedPeerMessages() {
        return transport == null ? 0 : transport.droppedMessages();
    }
}
