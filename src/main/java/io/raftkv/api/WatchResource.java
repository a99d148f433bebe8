package io.raftkv.api;

import io.raftkv.server.RaftkvConfig;
import io.raftkv.server.RaftkvServer;
import io.raftkv.watch.WatchGoneException;
import io.raftkv.watch.Watcher;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * {@code GET /v1/watch?prefix=P&fromIndex=N&values=true}: the puts and deletes of the keys under a prefix, as
 * Server-Sent Events in log order (event name {@code put} or {@code delete}, id = the write's log index, data =
 * {@code {"type","key","version","index","value"}}), from this node's own applied state (any member serves it). A
 * reconnect with {@code Last-Event-ID: N} resumes after N, on this node or another, without a gap or a repeat. An
 * index no longer retained here answers 410 with the index to start from after re-listing. A watch ends with an
 * {@code event: cut-off} when it reads too slowly, when its history is gone (re-list), or when the node stops.
 */
@Path("/v1/watch")
public class WatchResource {

    static final String LAST_EVENT_ID = "Last-Event-ID";

    @Inject
    RaftkvServer server;

    @Inject
    RaftkvConfig config;

    @Inject
    WatchStreams streams;

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void watch(@QueryParam("prefix") String prefixParam, @QueryParam("fromIndex") String fromParam,
                      @QueryParam("values") String valuesParam, @HeaderParam(LAST_EVENT_ID) String lastEventId,
                      @Context SseEventSink sink, @Context Sse sse) {
        String prefix = prefixParam == null ? "" : prefixParam;
        if (prefix.getBytes(StandardCharsets.UTF_8).length > config.maxKeyBytes()) {
            throw ProblemException.badRequest("prefix is longer than the " + config.maxKeyBytes() + "-byte key limit");
        }
        long from = index(fromParam, "fromIndex");
        if (lastEventId != null && !lastEventId.isBlank()) {
            from = index(lastEventId.trim(), LAST_EVENT_ID) + 1; // what the client saw last: resume after it
        }
        boolean values = bool(valuesParam, "values");
        RunningNode.of(server);
        Watcher w;
        try {
            w = server.watchHub().watch(prefix, from);
        } catch (WatchGoneException gone) {
            throw new ProblemException(Problem.builder(410, "Gone", gone.getMessage(), Map.of(
                    "fromIndex", gone.requested(), "firstIndex", gone.firstIndex(),
                    "currentIndex", gone.currentIndex(), "relistThenWatchFrom", gone.currentIndex() + 1)).build());
        } catch (IllegalStateException tooMany) {
            throw new ProblemException(Problem.builder(429, "Too Many Requests", tooMany.getMessage(), null)
                    .header("Retry-After", "1").build());
        }
        streams.stream(w, values, config.watchProgressInterval(), sink, sse);
    }

    private static long index(String s, String name) {
        if (s == null || s.isEmpty()) {
            return 0;
        }
        try {
            long v = Long.parseLong(s);
            if (v >= 0) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ProblemException.badRequest(name + " must be a log index (an integer of at least 0), not '" + s + "'");
    }

    private static boolean bool(String s, String name) {
        if (s == null || s.isEmpty() || s.equalsIgnoreCase("true")) {
            return true;
        }
        if (s.equalsIgnoreCase("false")) {
            return false;
        }
        throw ProblemException.badRequest(name + " must be true or false, not '" + s + "'");
    }
}
