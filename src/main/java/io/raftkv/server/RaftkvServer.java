package io.raftkv.server;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.raftkv.events.EventLog;
import io.raftkv.node.NodeSettings;
import io.raftkv.node.RaftNode;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.snapshot.KvNodeSnapshots;
import io.raftkv.snapshot.SnapshotInfo;
import io.raftkv.snapshot.SnapshotRestore;
import io.raftkv.snapshot.SnapshotStore;
import io.raftkv.storage.RaftLogStore;
import io.quarkus.scheduler.Scheduled;
import io.raftkv.storage.RaftLogStores;
import io.raftkv.transport.HttpPeerTransport;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.URI;
import java.nio.file.Path;
import java.security.Security;
import java.time.Duration;
import java.util.Map;

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

    private volatile RaftNode node;
    private volatile RaftLogStore logStorage;
    private volatile KvStateMachine stateMachine;
    private EventLog events;
    private HttpPeerTransport transport;
    private volatile KvNodeSnapshots snapshots;
    private Map<String, URI> members;
    private Path dataDir;

    void onStart(@Observes StartupEvent event) {
        // A restarted peer must be reachable again at once: do not cache DNS answers (containers change IPs).
        Security.setProperty("networkaddress.cache.ttl", "1");
        Security.setProperty("networkaddress.cache.negative.ttl", "0");
        try {
            start();
        } catch (RuntimeException e) {
            LOG.errorf("raftkv node %s cannot start: %s", config.nodeId(), e.getMessage());
            closeQuietly();
            Quarkus.asyncExit(2);
            throw e;
        }
    }

    private void start() {
        members = Members.parse(config.peers(), config.nodeId(), config.advertiseUrl().orElse(null));
        dataDir = Path.of(config.dataDir().orElse("data/" + config.nodeId())).toAbsolutePath().normalize();
        long tickNanos = config.tick().toNanos();
        if (tickNanos < Duration.ofMillis(1).toNanos()) {
            throw new IllegalArgumentException("raftkv.tick must be at least 1ms");
        }
        int heartbeatTicks = (int) Math.max(1, config.heartbeatInterval().toNanos() / tickNanos);
        int electionTicks = (int) Math.max(heartbeatTicks + 1, config.electionTimeout().toNanos() / tickNanos);
        NodeSettings settings = new NodeSettings(config.nodeId(), members, config.tick(), heartbeatTicks, electionTicks,
                config.requestTimeout(), config.applyFlushInterval(), config.maxMessageBytes(), config.maxInflight(),
                config.snapshotThreshold(), config.snapshotThresholdBytes(), config.snapshotLogMargin());

        RaftLogStores.Kind logStore = RaftLogStores.Kind.parse(config.logStore());
        events = EventLog.open(dataDir, config.nodeId());
        logStorage = RaftLogStores.open(logStore, dataDir, config.walSegmentBytes());
        SnapshotStore snapshotStore = SnapshotStore.open(dataDir);
        reconcileLogWithSnapshot(snapshotStore);
        stateMachine = KvStateMachine.open(dataDir);
        // The restart rule: a state machine behind the newest snapshot (or missing) is loaded from it.
        SnapshotRestore.Result restored = SnapshotRestore.restore(stateMachine, snapshotStore, logStorage.firstIndex());
        restored.installed().ifPresent(m -> events.log("state machine loaded from snapshot " + m + " at start"));
        restored.setAside().forEach(p -> events.log("damaged snapshot set aside: " + p));
        transport = new HttpPeerTransport(config.nodeId(), members, config.requestTimeout());
        snapshots = new KvNodeSnapshots(stateMachine, snapshotStore, config.nodeId(), HttpPeerTransport.SENDER_HEADER,
                members, config.requestTimeout(), config.snapshotChunkBytes());
        node = new RaftNode(settings, logStorage, stateMachine, transport, snapshots, events, null, this::fatal);
        node.start();
        LOG.infof("raftkv node %s at %s, data in %s (%s log), members %s", config.nodeId(), members.get(config.nodeId()),
                dataDir, config.logStore(), members);
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

    private void fatal(Throwable t) {
        LOG.errorf(t, "raftkv node %s stopped after a fatal error", config.nodeId());
        Quarkus.asyncExit(3);
    }

    void onStop(@Observes ShutdownEvent event) {
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
            }
        }
        stateMachine = null;
        snapshots = null;
        logStorage = null;
        events = null;
    }

    /** The running node, or null while starting or stopping. */
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
