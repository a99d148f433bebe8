package io.raftkv.api;

import io.raftkv.node.NotLeaderException;
import io.raftkv.node.NotProposedException;
import io.raftkv.node.OutcomeUnknownException;
import io.raftkv.node.OverloadedException;
import io.raftkv.node.ProposalLostException;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Role;
import io.raftkv.server.RaftkvConfig;
import io.raftkv.server.RaftkvServer;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.ClientSessions;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvListing;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The client API. Writes go through the Raft log and answer after commit and apply on the leader; reads are
 * linearizable (ReadIndex) unless {@code consistency=stale}. A follower redirects (307) to the leader, or answers 503
 * while no leader is known.
 */
@Path("/v1/kv")
public class KvResource {

    static final String VERSION_HEADER = "X-Raftkv-Version";
    static final String CLIENT_ID_HEADER = "Raftkv-Client-Id";
    static final String REQUEST_SEQ_HEADER = "Raftkv-Request-Seq";
    static final String DUPLICATE_HEADER = "Raftkv-Duplicate";
    private static final int MAX_LIST_LIMIT = 10_000;

    @Inject
    RaftkvServer server;

    @Inject
    RaftkvConfig config;

    @Inject
    io.raftkv.auth.ClientTls tls;

    @Inject
    org.eclipse.microprofile.context.ManagedExecutor executor;

    @Inject
    WriteForwarder forwarder;

    /** What a follower needs to forward a write as it came (raftkv.forward-writes). */
    private record Forward(String method, jakarta.ws.rs.core.HttpHeaders headers, byte[] body) {
    }

    @PUT
    @Path("{key: .+}")
    @Consumes(MediaType.WILDCARD)
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> put(@PathParam("key") String key, @QueryParam("ifVersion") String ifVersion,
                                         @QueryParam("ifValue") String ifValue,
                                         @HeaderParam(CLIENT_ID_HEADER) String clientId,
                                         @HeaderParam(REQUEST_SEQ_HEADER) String requestSeq, byte[] body,
                                         @Context UriInfo uri, @Context jakarta.ws.rs.core.HttpHeaders headers) {
        validateKey(key);
        byte[] value = body == null ? new byte[0] : body;
        if (value.length > config.maxValueBytes()) {
            throw new ProblemException(Problem.of(413, "Content Too Large",
                    "value is " + value.length + " bytes; the limit is " + config.maxValueBytes()));
        }
        KvCommand command = session(KvCommand.put(key, value, condition(ifVersion, ifValue)), clientId, requestSeq);
        return write(command, uri, r -> answer(r, () -> Response.ok(body("key", key, "version", r.version(),
                "index", r.originalIndex(), "term", r.originalTerm()))), false, new Forward("PUT", headers, value));
    }

    @DELETE
    @Path("{key: .+}")
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> delete(@PathParam("key") String key, @QueryParam("ifVersion") String ifVersion,
                                            @QueryParam("ifValue") String ifValue,
                                            @HeaderParam(CLIENT_ID_HEADER) String clientId,
                                            @HeaderParam(REQUEST_SEQ_HEADER) String requestSeq, @Context UriInfo uri,
                                            @Context jakarta.ws.rs.core.HttpHeaders headers) {
        validateKey(key);
        KvCommand command = session(KvCommand.delete(key, condition(ifVersion, ifValue)), clientId, requestSeq);
        return write(command, uri, r -> answer(r, () -> Response.ok(body("key", key, "deleted", r.deleted(),
                "index", r.originalIndex(), "term", r.originalTerm()))), false, new Forward("DELETE", headers, null));
    }

    /**
     * A write's answer from its result: 409 for a failed condition, 422 for a session write refused as expired, else
     * {@code ok}. A retry that was not applied again gets the first attempt's answer, marked {@value #DUPLICATE_HEADER}.
     */
    private static Response answer(ApplyResult r, java.util.function.Supplier<Response.ResponseBuilder> ok) {
        if (r.expired()) {
            return Problem.of(422, "Unprocessable Content", "the client session is unknown or expired, or this request"
                    + " sequence is older than the results it keeps (the last " + ClientSessions.WINDOW + "): whether"
                    + " it was applied before cannot be told, so it was not applied; continue with a new client id",
                    Map.of("index", r.index()));
        }
        Response.ResponseBuilder b = r.conflict() ? Response.fromResponse(conflict(r)) : ok.get();
        if (r.duplicate()) {
            b.header(DUPLICATE_HEADER, "true");
        }
        return b.build();
    }

    /** Tags a write with its client session, from the two headers (both or neither). */
    private static KvCommand session(KvCommand command, String clientId, String requestSeq) {
        if (clientId == null && requestSeq == null) {
            return command;
        }
        if (clientId == null || requestSeq == null) {
            throw ProblemException.badRequest("give both " + CLIENT_ID_HEADER + " and " + REQUEST_SEQ_HEADER + ", or neither");
        }
        if (!clientId.matches("[A-Za-z0-9._:-]{1,128}")) {
            throw ProblemException.badRequest(CLIENT_ID_HEADER + " must be 1 to 128 characters of A-Z a-z 0-9 . _ : -");
        }
        long seq;
        try {
            seq = Long.parseLong(requestSeq.trim());
        } catch (NumberFormatException e) {
            seq = 0;
        }
        if (seq < 1) {
            throw ProblemException.badRequest(REQUEST_SEQ_HEADER + " must be a positive integer, got '" + requestSeq + "'");
        }
        return command.withClient(clientId, seq);
    }

    @GET
    @Path("{key: .+}")
    @Produces({MediaType.APPLICATION_OCTET_STREAM, MediaType.APPLICATION_JSON})
    public CompletionStage<Response> get(@PathParam("key") String key, @QueryParam("consistency") String consistency,
                                         @Context UriInfo uri) {
        validateKey(key);
        return read(consistency, uri, () -> {
            Optional<KvEntry> e = RunningNode.stateMachine(server).get(key);
            if (e.isEmpty()) {
                return Problem.of(404, "Not Found", "no key '" + key + "'", Map.of("key", key));
            }
            return Response.ok(e.get().value(), MediaType.APPLICATION_OCTET_STREAM)
                    .header(VERSION_HEADER, e.get().version())
                    .tag(Long.toString(e.get().version()))
                    .build();
        });
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> list(@QueryParam("prefix") String prefix, @QueryParam("limit") String limit,
                                          @QueryParam("consistency") String consistency, @Context UriInfo uri) {
        String p = prefix == null ? "" : prefix;
        int n = parseLimit(limit);
        return read(consistency, uri, () -> {
            var listing = RunningNode.stateMachine(server).listKeys(p, n);
            List<Map<String, Object>> keys = new ArrayList<>(listing.keys().size());
            for (var k : listing.keys()) {
                keys.add(body("key", k.key(), "version", k.version(), "size", k.valueBytes()));
            }
            return Response.ok(body("prefix", p, "keys", keys, "more", listing.more())).build();
        });
    }

    // ---------------------------------------------------------------------------------------------------------------

    private CompletionStage<Response> write(KvCommand command, UriInfo uri, Function<ApplyResult, Response> onApplied) {
        return write(command, uri, onApplied, false, null);
    }

    /**
     * How long a request that finds no leader waits for an election to end: the longest randomized election timeout,
     * plus the pre-vote and vote round trips.
     */
    private java.time.Duration electionWait() {
        return config.electionTimeout().multipliedBy(2).plus(config.heartbeatInterval().multipliedBy(2));
    }

    private CompletionStage<Response> write(KvCommand command, UriInfo uri, Function<ApplyResult, Response> onApplied,
                                            boolean waited, Forward forward) {
        RaftNode node = RunningNode.of(server);
        if (node.role() != Role.LEADER) {
            if (node.leaderId() == null && !waited) {
                // An election is under way: wait for its outcome, then serve, forward or redirect.
                return node.awaitLeader(electionWait()).thenComposeAsync(l -> write(command, uri, onApplied, true, forward), executor);
            }
            String leaderId = node.leaderId();
            URI memberUrl = leaderId == null ? null : server.members().get(leaderId);
            if (forward != null && forwarder.enabled() && memberUrl != null && !leaderId.equals(server.nodeId())
                    && !WriteForwarder.forwarded(forward.headers())) {
                return forwarder.forward(forward.method(), tls.clientUrl(memberUrl), leaderId, uri, forward.headers(), forward.body());
            }
            return CompletableFuture.completedFuture(notLeader(leaderId, uri));
        }
        byte[] encoded = command.encode();
        String full = server.checkDiskSpace(encoded.length);
        if (full != null) {
            return CompletableFuture.completedFuture(RunningNode.diskFull(server, full)); // not proposed: no effect
        }
        return node.propose(encoded).handle((r, err) -> err == null ? onApplied.apply(r) : failure(err, uri, true));
    }

    private CompletionStage<Response> read(String consistency, UriInfo uri, java.util.function.Supplier<Response> reader) {
        if (consistency != null && !consistency.equals("linearizable") && !consistency.equals("stale")) {
            throw ProblemException.badRequest("consistency must be 'linearizable' (the default) or 'stale'");
        }
        if ("stale".equals(consistency)) {
            // This node's own copy, whatever its state; off the HTTP event loop (a listing reads many keys).
            return CompletableFuture.supplyAsync(reader, executor);
        }
        return linearizableRead(uri, reader, false);
    }

    private CompletionStage<Response> linearizableRead(UriInfo uri, java.util.function.Supplier<Response> reader, boolean waited) {
        RaftNode node = RunningNode.of(server);
        if (node.role() != Role.LEADER) {
            if (node.leaderId() == null && !waited) {
                return node.awaitLeader(electionWait()).thenComposeAsync(l -> linearizableRead(uri, reader, true), executor);
            }
            return CompletableFuture.completedFuture(notLeader(node.leaderId(), uri));
        }
        // The barrier completes on the Raft loop thread: the read itself (a listing may be large) runs off it.
        return node.readBarrier().handleAsync((index, err) -> err == null ? reader.get() : failure(err, uri, false), executor);
    }

    /**
     * The error contract: 503 (or 429) only when the request certainly had no effect; a write that may exist in the log
     * answers 504, with its index and term when known.
     */
    private Response failure(Throwable err, UriInfo uri, boolean write) {
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (e instanceof NotLeaderException nl) {
            return notLeader(nl.leaderId(), uri);
        }
        if (e instanceof ProposalLostException) {
            return Problem.unavailable(e.getMessage() + "; not applied, safe to retry");
        }
        if (e instanceof OutcomeUnknownException u) {
            return Problem.of(504, "Gateway Timeout", e.getMessage() + "; the outcome is unknown (the write may still be"
                    + " applied)", u.index() == 0 ? Map.of() : Map.of("index", u.index(), "term", u.term()));
        }
        if (e instanceof OverloadedException) {
            return Problem.builder(429, "Too Many Requests", e.getMessage() + "; not proposed, safe to retry", null)
                    .header("Retry-After", "1").build();
        }
        if (e instanceof NotProposedException) {
            return Problem.unavailable(e.getMessage() + "; not proposed, safe to retry");
        }
        if (e instanceof io.raftkv.storage.DiskFullException) {
            return RunningNode.diskFull(server, e.getMessage());
        }
        if (e instanceof TimeoutException) {
            return Problem.of(504, "Gateway Timeout", "not committed within " + config.requestTimeout().toMillis()
                    + " ms; the outcome is unknown (the write may still be applied)");
        }
        if (e instanceof ProblemException pe) {
            return pe.response();
        }
        if (write) {
            return Problem.of(504, "Gateway Timeout", e.getMessage() + "; the outcome is unknown (the write may still be"
                    + " applied)");
        }
        return Problem.unavailable(String.valueOf(e.getMessage()));
    }

    private Response notLeader(String leaderId, UriInfo uri) {
        return toLeader(server, tls, leaderId, uri, "this node is a follower; the leader is " + leaderId);
    }

    /**
     * 307 to the same path and query on the leader (its HTTPS client URL while this node serves HTTPS), or 503 with
     * Retry-After while no other leader is known.
     */
    static Response toLeader(RaftkvServer server, io.raftkv.auth.ClientTls tls, String leaderId, UriInfo uri, String detail) {
        URI memberUrl = leaderId == null ? null : server.members().get(leaderId);
        URI leaderUrl = memberUrl == null ? null : tls.clientUrl(memberUrl);
        if (leaderUrl == null || leaderId.equals(server.nodeId())) {
            return Problem.unavailable("no leader is known yet; retry shortly");
        }
        URI request = uri.getRequestUri();
        String target = leaderUrl.toString() + request.getRawPath() + (request.getRawQuery() == null ? "" : "?" + request.getRawQuery());
        return Problem.builder(307, "Temporary Redirect", detail,
                Map.of("leader", leaderId, "leaderUrl", leaderUrl.toString())).location(URI.create(target)).build();
    }

    private static Response conflict(ApplyResult r) {
        return Problem.of(409, "Conflict", "the condition did not hold: the key's current version is " + r.version()
                + (r.version() == 0 ? " (absent)" : ""), Map.of("key", r.key(), "currentVersion", r.version(), "index", r.originalIndex()));
    }

    private void validateKey(String key) {
        if (key == null || key.isEmpty()) {
            throw ProblemException.badRequest("the key must not be empty");
        }
        int bytes = key.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > config.maxKeyBytes()) {
            throw ProblemException.badRequest("the key is " + bytes + " bytes; the limit is " + config.maxKeyBytes());
        }
    }

    private static KvCommand.Condition condition(String ifVersion, String ifValue) {
        if (ifVersion != null && ifValue != null) {
            throw ProblemException.badRequest("give ifVersion or ifValue, not both");
        }
        if (ifVersion != null) {
            try {
                long v = Long.parseLong(ifVersion);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                return new KvCommand.VersionIs(v);
            } catch (NumberFormatException e) {
                throw ProblemException.badRequest("ifVersion must be a non-negative integer (0: the key must not exist)");
            }
        }
        if (ifValue != null) {
            return new KvCommand.ValueIs(ifValue.getBytes(StandardCharsets.UTF_8));
        }
        return new KvCommand.NoCondition();
    }

    private static int parseLimit(String limit) {
        if (limit == null) {
            return 1000;
        }
        try {
            int n = Integer.parseInt(limit);
            if (n < 1 || n > MAX_LIST_LIMIT) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("limit must be an integer from 1 to " + MAX_LIST_LIMIT);
        }
    }

    static Map<String, Object> body(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
