package io.raftkv.ui;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.ClusterView;
import io.raftkv.cli.CtlClient;
import io.raftkv.cli.CtlException;
import org.jboss.logging.Logger;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The views for every browser that streams with the same credentials: while one is connected, a task on the
 * {@link ClusterStreams} pool gathers the cluster (this node's status and configuration, every member's status at
 * its client URL, as {@code raftkvctl status} does with {@link ClusterView}, then each reachable member's recent
 * event-log lines) and offers the JSON to each of them; the next round starts a fixed delay after one ends, so a
 * member slow to answer slows the rounds down instead of piling them up. The credentials are the viewer's own
 * ({@code Authorization} is passed on), so members answer it exactly what they would answer the browser.
 */
final class ClusterFeed {

    private static final Logger LOG = Logger.getLogger(ClusterFeed.class);
    static final int EVENT_LINES = 20;

    private final String observer;
    private final UnaryOperator<URI> clientUrl;
    private final CtlClient client;
    private final Map<String, Object> viewer;
    private final ObjectMapper json;
    private final Set<Viewer> viewers = ConcurrentHashMap.newKeySet();
    private volatile String last;
    /** Each member's lines as last fetched, shown (marked as such) while it does not answer. Touched by rounds only. */
    private final Map<String, ClusterViewJson.Events> lastEvents = new ConcurrentHashMap<>();
    private ScheduledFuture<?> task;

    ClusterFeed(String observer, UnaryOperator<URI> clientUrl, CtlClient client, Map<String, Object> viewer,
                ObjectMapper json) {
        this.observer = observer;
        this.clientUrl = clientUrl;
        this.client = client;
        this.viewer = viewer;
        this.json = json;
    }

    synchronized void start(ScheduledExecutorService pool, long periodMillis) {
        if (task == null) {
            task = pool.scheduleWithFixedDelay(this::round, 0, periodMillis, TimeUnit.MILLISECONDS);
        }
    }

    synchronized void stop() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }

    void add(Viewer v) {
        viewers.add(v);
        String l = last;
        if (l != null) {
            v.offer(l); // at once, rather than at the next round
        }
    }

    void remove(Viewer v) {
        viewers.remove(v);
    }

    boolean idle() {
        return viewers.isEmpty();
    }

    int size() {
        return viewers.size();
    }

    void closeAll(String why) {
        for (Viewer v : new ArrayList<>(viewers)) {
            v.close(why);
        }
    }

    private void round() {
        try {
            String view = json.writeValueAsString(gather());
            last = view;
            for (Viewer v : viewers) {
                v.offer(view);
            }
        } catch (JsonProcessingException | RuntimeException e) {
            LOG.warnf("cluster view round failed: %s", e.toString());
        }
    }

    /** One view of the cluster, as this node sees it now. */
    Map<String, Object> gather() {
        Instant at = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        ClusterView v;
        try {
            v = ClusterView.gather(client, clientUrl);
        } catch (CtlException e) {
            return ClusterViewJson.failed(observer, at, viewer, e.getMessage());
        }
        Map<String, ClusterViewJson.Events> events = new LinkedHashMap<>();
        for (ClusterView.Member m : v.members()) {
            ClusterViewJson.Events e = null;
            if (m.status() != null && m.reachedAt() != null) {
                e = events(m.reachedAt());
            }
            if (e != null && e.error() == null) {
                lastEvents.put(m.id(), new ClusterViewJson.Events(e.lines(), null, at));
            } else {
                ClusterViewJson.Events known = lastEvents.get(m.id());
                if (known != null) {
                    e = new ClusterViewJson.Events(known.lines(), (e == null ? "unreachable" : e.error())
                            + ": the lines as of " + known.asOf(), known.asOf());
                }
            }
            if (e != null) {
                events.put(m.id(), e);
            }
        }
        lastEvents.keySet().retainAll(v.members().stream().map(ClusterView.Member::id).toList());
        return ClusterViewJson.of(observer, at, viewer, v, events);
    }

    private ClusterViewJson.Events events(URI at) {
        CtlClient.Answer a = client.at(at, "GET", "/v1/events?limit=" + EVENT_LINES, null);
        if (a == null) {
            return new ClusterViewJson.Events(List.of(), "unreachable", null);
        }
        if (a.status() != 200) {
            return new ClusterViewJson.Events(List.of(), a.problem(), null);
        }
        try {
            List<String> lines = new ArrayList<>();
            for (JsonNode l : a.json().path("lines")) {
                lines.add(l.asText());
            }
            return new ClusterViewJson.Events(lines, null, null);
        } catch (CtlException e) {
            return new ClusterViewJson.Events(List.of(), e.getMessage(), null);
        }
    }
}
