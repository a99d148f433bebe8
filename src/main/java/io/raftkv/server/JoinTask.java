package io.raftkv.server;

import io.quarkus.scheduler.Scheduled;
import io.raftkv.events.EventLog;
import io.raftkv.membership.Joiner;
import io.raftkv.node.RaftNode;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code raftkv.join=true}: while this node is not in its configuration, ask to be added (see {@link Joiner}). An id
 * that is a member already (this node lost its data directory) is asked about again only every 30 s: an operator must
 * replace it.
 */
@ApplicationScoped
public class JoinTask {

    private static final Logger LOG = Logger.getLogger(JoinTask.class);
    private static final long ALREADY_MEMBER_BACKOFF_NANOS = 30_000_000_000L;

    @Inject
    RaftkvServer server;

    @Inject
    RaftkvConfig config;

    @Inject
    io.raftkv.auth.ClientTls clientTls;

    private Joiner joiner;
    private Joiner.Attempt last;
    private long lastAttemptNanos;

    @Scheduled(every = "${raftkv.join-interval:2s}", delayed = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    synchronized void joinIfNeeded() {
        RaftNode node = server.node();
        if (!config.join() || node == null || server.diskFull() != null) {
            return;
        }
        if (node.configuration().isMember(config.nodeId())) {
            if (last != null) {
                note("join: " + config.nodeId() + " is in the configuration now (" + node.configuration() + ")");
                last = null;
            }
            return;
        }
        if (last != null && last.outcome() != Joiner.Outcome.RETRY
                && System.nanoTime() - lastAttemptNanos < ALREADY_MEMBER_BACKOFF_NANOS) {
            return;
        }
        if (joiner == null) {
            javax.net.ssl.SSLContext ssl = config.joinCacert().map(f -> io.raftkv.cli.CtlClient.trusting(java.nio.file.Path.of(f)))
                    .orElse(null);
            joiner = new Joiner(config.nodeId(), () -> server.members().get(config.nodeId()),
                    () -> server.directory().peerUrl(config.nodeId()), this::seeds, this::credentials, config.requestTimeout(), ssl);
        }
        lastAttemptNanos = System.nanoTime();
        Joiner.Attempt a = joiner.tryOnce();
        if (last == null || last.outcome() != a.outcome() || a.outcome() != Joiner.Outcome.RETRY) {
            note(switch (a.outcome()) {
                case ADDED -> "join: asked to be added as a learner; " + a.detail();
                case ALREADY_MEMBER -> "join: " + config.nodeId() + " is a member already but this data directory is"
                        + " not: it must be replaced (POST /v1/members/" + config.nodeId() + "/replace); " + a.detail();
                case RETRY -> "join: not added yet, retrying every " + config.joinInterval().toMillis() + " ms: " + a.detail();
            });
        }
        last = a;
    }

    /** The other members' client URLs (their HTTPS ones while client TLS is on). */
    private List<URI> seeds() {
        return server.members().entrySet().stream()
                .filter(e -> !Objects.equals(e.getKey(), config.nodeId()))
                .map(e -> clientTls.enabled() ? clientTls.clientUrl(e.getValue()) : e.getValue()).toList();
    }

    /** An admin token from raftkv.join-token-file (read at every attempt: a Secret may change), when authentication is on. */
    private Map<String, String> credentials() {
        return config.joinTokenFile().map(f -> {
            try {
                String token = java.nio.file.Files.readString(java.nio.file.Path.of(f)).trim();
                return token.isEmpty() ? Map.<String, String>of() : Map.of("Authorization", "Bearer " + token);
            } catch (java.io.IOException e) {
                LOG.warnf("join: cannot read raftkv.join-token-file %s: %s", f, e.getMessage());
                return Map.<String, String>of();
            }
        }).orElse(Map.of());
    }

    private void note(String line) {
        LOG.info(line);
        EventLog events = server.events();
        if (events != null) {
            events.log(line);
        }
    }
}
