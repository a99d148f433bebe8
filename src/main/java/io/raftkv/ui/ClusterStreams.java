package io.raftkv.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.CtlClient;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.UnaryOperator;

/**
 * The cluster streams of one node: a {@link ClusterFeed} per distinct credentials (so many tabs of one operator cost
 * one round of requests, not one each), at most {@link #maxViewers} connections in all, and a small pool of threads
 * of its own for the rounds: the requests to the members block one of these threads, never the Raft loop or a Vert.x
 * event loop. A feed stops with its last viewer. Plain Java: the Quarkus side is {@link ClusterStreamResource}.
 */
final class ClusterStreams {

    /** What the streams need to know of the node. */
    record Settings(String nodeId, URI selfUrl, UnaryOperator<URI> clientUrl, Path cacert, Duration requestTimeout,
                    long periodMillis, int maxViewers, Duration stuckAfter) {
    }

    private final Settings settings;
    private final ObjectMapper json;
    private final ScheduledExecutorService pool = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "raftkv-cluster-view");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, ClusterFeed> feeds = new HashMap<>();
    private int viewers;
    private boolean stopped;

    ClusterStreams(Settings settings, ObjectMapper json) {
        this.settings = settings;
        this.json = json;
    }

    /** Too many connections already. */
    static final class FullException extends RuntimeException {
        FullException(String message) {
            super(message);
        }
    }

    /**
     * Starts streaming views to {@code v}'s connection, gathered with {@code authorization} (the request's header,
     * null without one); {@code viewer} describes who asks, for the page.
     */
    synchronized Viewer open(String authorization, Map<String, Object> viewer,
                             java.util.function.Function<Runnable, Viewer> connect) {
        if (stopped) {
            throw new FullException("the node is stopping");
        }
        if (viewers >= settings.maxViewers()) {
            throw new FullException("this node already streams the cluster view to " + viewers + " connections (the most it does)");
        }
        String key = authorization == null ? "" : authorization;
        ClusterFeed feed = feeds.get(key);
        if (feed == null) {
            String token = authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                    ? authorization.substring(7).trim() : null;
            CtlClient client = new CtlClient(List.of(settings.selfUrl()), token, settings.cacert(), settings.requestTimeout());
            feed = new ClusterFeed(settings.nodeId(), settings.clientUrl(), client, viewer, json);
            feeds.put(key, feed);
        }
        ClusterFeed f = feed;
        Viewer[] holder = new Viewer[1];
        Viewer v = connect.apply(() -> closed(key, f, holder[0]));
        holder[0] = v;
        viewers++;
        f.add(v);
        f.start(pool, settings.periodMillis());
        return v;
    }

    private synchronized void closed(String key, ClusterFeed feed, Viewer v) {
        viewers--;
        feed.remove(v);
        if (feed.idle() && feeds.get(key) == feed) {
            feed.stop();
            feeds.remove(key);
        }
    }

    /** Connections streamed now. */
    synchronized int viewers() {
        return viewers;
    }

    /** Feeds running now (one per distinct credentials). */
    synchronized int feeds() {
        return feeds.size();
    }

    void stop() {
        List<ClusterFeed> all;
        synchronized (this) {
            stopped = true;
            all = List.copyOf(feeds.values());
        }
        for (ClusterFeed f : all) {
            f.stop();
            f.closeAll("the node is stopping");
        }
        pool.shutdownNow();
    }
}
