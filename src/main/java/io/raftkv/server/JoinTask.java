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
            joiner = new Joiner(config.nodeId(), () -> server.members().get(config.nodeId()),
                    () -> server.directory().peerUrl(config.nodeId()), this::seeds, Map::of, config.requestTimeout());
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

    private List<URI> seeds() {
        return server.members().entrySet().stream()
                .filter(e -> !Objects.equals(e.getKey(), config.nodeId()))
                .map(Map.Entry::getValue).toList();
    }

    private void note(String line) {
        LOG.info(line);
        EventLog events = server.events();
        if (events != null) {
            events.log(line);
        }
    }
}
