package io.raftkv.api;

import io.raftkv.cli.CtlClient;
import io.raftkv.server.RaftkvConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * {@code raftkv.forward-writes=true}: a follower passes a write on to the leader and answers with the leader's answer,
 * for clients that cannot follow redirects (behind a load balancer that does not reach the members' own URLs). One
 * hop only: a forwarded request is never forwarded again (a leader that lost its leadership meanwhile answers 307 or
 * 503, which reach the client as they are). The client's credentials and session headers travel with it.
 */
@ApplicationScoped
public class WriteForwarder {

    /** On a forwarded request: the id of the member that forwarded it; on its answer: the leader that answered. */
    public static final String FORWARDED_BY = "Raftkv-Forwarded-By";
    public static final String FORWARDED_TO = "Raftkv-Forwarded-To";
    private static final List<String> REQUEST_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.AUTHORIZATION,
            KvResource.CLIENT_ID_HEADER, KvResource.REQUEST_SEQ_HEADER);
    private static final List<String> ANSWER_HEADERS = List.of(HttpHeaders.CONTENT_TYPE, HttpHeaders.LOCATION, "Retry-After",
            KvResource.DUPLICATE_HEADER, KvResource.VERSION_HEADER, HttpHeaders.ETAG);

    @Inject
    RaftkvConfig config;

    private volatile HttpClient http;

    public boolean enabled() {
        return config.forwardWrites();
    }

    /** Whether this request came forwarded by another member (then it is not forwarded again). */
    public static boolean forwarded(HttpHeaders headers) {
        return headers != null && headers.getHeaderString(FORWARDED_BY) != null;
    }

    /** Sends the request as it came ({@code method}, path and query of {@code uri}, {@code body}) to the leader. */
    public CompletionStage<Response> forward(String method, URI leaderUrl, String leaderId, UriInfo uri, HttpHeaders headers,
                                             byte[] body) {
        URI request = uri.getRequestUri();
        URI target = URI.create(leaderUrl.toString() + request.getRawPath() + (request.getRawQuery() == null ? "" : "?" + request.getRawQuery()));
        HttpRequest.Builder b = HttpRequest.newBuilder(target).timeout(config.requestTimeout().plusSeconds(1))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body))
                .header(FORWARDED_BY, config.nodeId());
        for (String h : REQUEST_HEADERS) {
            String v = headers.getHeaderString(h);
            if (v != null) {
                b.header(h, v);
            }
        }
        return client().sendAsync(b.build(), HttpResponse.BodyHandlers.ofByteArray()).handle((r, err) -> {
            if (err != null) {
                Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                if (e instanceof ConnectException) { // never reached the leader: no effect
                    return Problem.unavailable("forwarding to the leader " + leaderId + " failed: " + e.getMessage()
                            + "; not applied, safe to retry");
                }
                return Problem.of(504, "Gateway Timeout", "forwarded to the leader " + leaderId + ", no answer (" + e
                        + "); the outcome is unknown (the write may still be applied)", Map.of("leader", leaderId));
            }
            Response.ResponseBuilder out = Response.status(r.statusCode()).entity(r.body()).header(FORWARDED_TO, leaderId);
            for (String h : ANSWER_HEADERS) {
                r.headers().firstValue(h).ifPresent(v -> out.header(h, v));
            }
            return out.build();
        });
    }

    private HttpClient client() {
        HttpClient c = http;
        if (c == null) {
            c = CtlClient.httpClient(java.time.Duration.ofSeconds(2), config.joinCacert().map(java.nio.file.Path::of).orElse(null));
            http = c;
        }
        return c;
    }
}
