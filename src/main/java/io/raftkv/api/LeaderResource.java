package io.raftkv.api;

import io.raftkv.node.NotLeaderException;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Role;
import io.raftkv.server.RaftkvServer;
import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * POST /v1/leader/transfer[?to=nodeId]: operators move leadership, e.g. off a node about to be serviced. Followers
 * redirect to the leader, or, asked with {@code Raftkv-Forward: leader}, pass the request on to it (one hop, the
 * credentials with it) and answer its answer: the cluster view's page does, since a browser cannot follow a redirect
 * to another origin with credentials.
 */
@Path("/v1/leader/transfer")
public class LeaderResource {

    /** The request header that asks a follower to forward instead of redirecting (value {@code leader}). */
    public static final String FORWARD_HEADER = "Raftkv-Forward";

    @Inject
    RaftkvServer server;

    @Inject
    io.raftkv.auth.ClientTls tls;

    @Inject
    WriteForwarder forwarder;

    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> transfer(@QueryParam("to") String to, @Context UriInfo uri,
                                              @Context HttpHeaders headers) {
        RaftNode node = RunningNode.of(server);
        if (to != null && !server.members().containsKey(to)) {
            throw ProblemException.badRequest("'" + to + "' is not a member: " + server.members().keySet());
        }
        if (node.role() != Role.LEADER) {
            String leaderId = node.leaderId();
            URI member = leaderId == null ? null : server.members().get(leaderId);
            if (member != null && !leaderId.equals(server.nodeId()) && headers != null
                    && "leader".equalsIgnoreCase(headers.getHeaderString(FORWARD_HEADER)) && !WriteForwarder.forwarded(headers)) {
                return forwarder.forward("POST", tls.clientUrl(member), leaderId, uri, headers, null);
            }
            return CompletableFuture.completedFuture(redirect(leaderId, uri));
        }
        String from = server.nodeId();
        return node.transferLeadership(to).handle((newLeader, err) -> {
            if (err == null) {
                return Response.ok(Map.of("from", from, "to", newLeader, "term", node.term())).build();
            }
            Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (e instanceof NotLeaderException nl) {
                return redirect(nl.leaderId(), uri);
            }
            if (e instanceof IllegalArgumentException) {
                return Problem.of(409, "Conflict", e.getMessage());
            }
            if (e instanceof TimeoutException) {
                return Problem.of(504, "Gateway Timeout", e.getMessage() + " within an election timeout; " + from + " leads again");
            }
            return Problem.of(503, "Service Unavailable", String.valueOf(e.getMessage()));
        });
    }

    private Response redirect(String leaderId, UriInfo uri) {
        return KvResource.toLeader(server, tls, leaderId, uri, "only the leader transfers leadership; the leader is " + leaderId);
    }
}
