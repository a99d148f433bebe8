package io.raftkv.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.api.Problem;
import io.raftkv.api.ProblemException;
import io.raftkv.auth.Access;
import io.raftkv.auth.AuthFilter;
import io.raftkv.auth.Authenticator;
import io.raftkv.auth.ClientTls;
import io.raftkv.auth.Principal;
import io.raftkv.server.RaftkvConfig;
import io.raftkv.server.RaftkvServer;
import io.vertx.ext.web.RoutingContext;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /v1/cluster/stream}: Server-Sent Events, one {@code event: view} about every
 * {@value #PERIOD_MILLIS} ms with the whole cluster as this node sees it (see {@link ClusterViewJson}), for the page
 * at {@code /ui}. With authentication on it needs the read role (AccessRules), and the members are asked with the
 * viewer's own bearer token. The Quarkus edge of {@link ClusterStreams}.
 */
@Path("/v1/cluster/stream")
@Singleton
public class ClusterStreamResource {

    static final long PERIOD_MILLIS = 750;
    static final int MAX_VIEWERS = 64;
    static final Duration STUCK_AFTER = Duration.ofSeconds(15);

    @Inject
    RaftkvServer server;

    @Inject
    RaftkvConfig config;

    @Inject
    ClientTls tls;

    @Inject
    Authenticator authenticator;

    @Inject
    ObjectMapper json;

    private ClusterStreams streams;

    private synchronized ClusterStreams streams() {
        if (streams == null) {
            URI own = server.members() == null ? null : server.members().get(server.nodeId());
            if (own == null) {
                throw new ProblemException(Problem.unavailable("the node is starting"));
            }
            URI self = tls.clientUrl(own);
            ClusterStreams.Settings s = new ClusterStreams.Settings(server.nodeId(), self, tls::clientUrl,
                    config.joinCacert().map(java.nio.file.Path::of).orElse(null), Duration.ofSeconds(2),
                    PERIOD_MILLIS, MAX_VIEWERS, STUCK_AFTER);
            streams = new ClusterStreams(s, json);
        }
        return streams;
    }

    @GET
    @Produces(MediaType.SERVER_SENT_EVENTS)
    public void stream(@Context HttpHeaders headers, @Context RoutingContext rc, @Context SseEventSink sink,
                       @Context Sse sse) {
        String authorization = headers.getHeaderString(HttpHeaders.AUTHORIZATION);
        Map<String, Object> viewer = new LinkedHashMap<>();
        boolean auth = authenticator.enabled();
        Principal p = auth ? rc.get(AuthFilter.PRINCIPAL) : null;
        viewer.put("auth", auth);
        viewer.put("principal", p == null ? null : p.name());
        viewer.put("admin", !auth || (p != null && p.may(Access.ADMIN)));
        try {
            streams().open(auth ? authorization : null, viewer,
                    onClose -> new Viewer(connection(sink, sse), STUCK_AFTER.toNanos(), onClose));
        } catch (ClusterStreams.FullException e) {
            throw new ProblemException(Problem.builder(429, "Too Many Requests", e.getMessage(), null)
                    .header("Retry-After", "5").build());
        }
    }

    private static Viewer.Connection connection(SseEventSink sink, Sse sse) {
        return new Viewer.Connection() {
            @Override
            public boolean isClosed() {
                return sink.isClosed();
            }

            @Override
            public java.util.concurrent.CompletionStage<?> send(String data, long id) {
                return sink.send(sse.newEventBuilder().name("view").id(Long.toString(id)).data(String.class, data).build());
            }

            @Override
            public void close() {
                sink.close();
            }
        };
    }

    /** Connections streamed now (tests). */
    public int viewers() {
        return streams == null ? 0 : streams.viewers();
    }

    @PreDestroy
    void stop() {
        if (streams != null) {
            streams.stop();
        }
    }
}
