package io.raftkv.server;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.raftkv.events.EventLog;
import io.raftkv.node.NodeSettings;
import io.raftkv.node.RaftNode;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.RaftLogStore;
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
    private RaftLogStore logStorage;
    private KvStateMachine stateMachine;
    private EventLog events;
    private HttpPeerTransport transport;
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
                config.requestTimeout(), config.applyFlushInterval(), config.maxMessageBytes(), config.maxInflight());

        RaftLogStores.Kind logStore = RaftLogStores.Kind.parse(config.logStore());
        events = EventLog.open(dataDir, config.nodeId());
        logStorage = RaftLogStores.open(logStore, dataDir, config.walSegmentBytes());
        stateMachine = KvStateMachine.open(dataDir);
        transport = new HttpPeerTransport(config.nodeId(), members, config.requestTimeout());
        node = new RaftNode(settings, logStorage, stateMachine, transport, events, null, this::fatal);
        node.start();
        LOG.infof("raftkv node %s at %s, data in %s (%s log), members %s", config.nodeId(), members.get(config.nodeId()),
                dataDir, config.logStore(), members);
    }

    private void fatal(Throwable t) {
        LOG.errorf(t, "raftkv node %s stopped after a fatal error", config.nodeId());
        Quarkus.asyncExit(3);
    }

    void onStop(@Observes ShutdownEvent event) {
        closeQuietly();
    }

    private synchronized void closeQuietly() {
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
        for (AutoCloseable c : new AutoCloseable[] {stateMachine, logStorage, events}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                LOG.warn("error closing " + c, e);
            }
        }
        stateMachine = null;
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
