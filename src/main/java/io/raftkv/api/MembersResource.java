package io.raftkv.api;

import io.raftkv.membership.MemberContext;
import io.raftkv.node.NotLeaderException;
import io.raftkv.node.OutcomeUnknownException;
import io.raftkv.node.ProposalLostException;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.RaftStatus;
import io.raftkv.raft.Role;
import io.raftkv.raft.confchange.ConfChangeRefusedException;
import io.raftkv.server.Members;
import io.raftkv.server.RaftkvServer;
import io.raftkv.statemachine.ApplyResult;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;

/**
 * Membership: list the members, add one (as a learner, promoted by the leader once caught up unless it asks to stay
 * a learner), promote a learner, remove a member. One change at a time, through the log (single-server changes);
 * only the leader changes membership (others redirect).
 */
@Path("/v1/members")
public class MembersResource {

    @Inject
    RaftkvServer server;

    @Inject
    io.raftkv.auth.ClientTls tls;

    /** The body of POST /v1/members. */
    public record AddMember(String id, String url, Boolean learner, String peerUrl) {
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Map<String, Object>> list() {
        RaftNode node = RunningNode.of(server);
        return node.status(0, 0).thenApply(s -> describe(s.raft()));
    }

    private Map<String, Object> describe(RaftStatus s) {
        Configuration c = s.configuration();
        List<Map<String, Object>> out = new ArrayList<>();
        for (String id : c.members()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            URI url = server.directory().url(id);
            m.put("url", url == null ? null : url.toString());
            URI peer = server.directory().peerUrl(id);
            m.put("peerUrl", peer == null ? null : peer.toString());
            m.put("role", c.isVoter(id) ? "voter" : "learner");
            m.put("leader", id.equals(s.leader()));
            if (c.isLearner(id)) {
                m.put("staysLearner", server.directory().staysLearner(id));
            }
            RaftStatus.PeerProgress p = s.peers().get(id);
            if (p != null) {
                m.put("matchIndex", p.matchIndex());
                m.put("caughtUp", p.matchIndex() >= s.commitIndex());
                m.put("recentActive", p.recentActive());
            }
            out.add(m);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("members", out);
        r.put("leader", s.leader());
        r.put("term", s.term());
        if (s.role() == Role.LEADER) {
            r.put("configChangePending", s.configChangePending());
        }
        return r;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> add(AddMember body, @Context UriInfo uri) {
        if (body == null || body.id() == null || body.url() == null) {
            throw ProblemException.badRequest("give {\"id\": ..., \"url\": ..., \"learner\": false, \"peerUrl\": \"host:port\" (optional)}");
        }
        if (!body.id().matches("[A-Za-z0-9._-]{1,64}")) {
            throw ProblemException.badRequest("bad member id '" + body.id() + "' (letters, digits, . _ -, at most 64)");
        }
        URI url;
        try {
            url = Members.url(body.url().trim(), "url");
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
        RaftNode node = RunningNode.of(server);
        if (node.role() != Role.LEADER) {
            return redirect(node, uri);
        }
        if (node.configuration().isMember(body.id())) {
            throw ProblemException.badRequest("'" + body.id() + "' is already a member (" + node.configuration() + ")");
        }
        URI peerUrl = null;
        if (body.peerUrl() != null && !body.peerUrl().isBlank()) {
            try {
                peerUrl = io.raftkv.membership.PeerAddresses.parse(body.peerUrl(), "peerUrl");
            } catch (IllegalArgumentException e) {
                throw ProblemException.badRequest(e.getMessage());
            }
        }
        MemberContext ctx = new MemberContext(url, Boolean.TRUE.equals(body.learner()), null, peerUrl);
        server.directory().learn(body.id(), ctx); // so that the leader can reach it as soon as the entry is appended
        return change(node, ConfChange.addLearner(body.id(), ctx.encode()), uri);
    }

    @POST
    @Path("{id}/promote")
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> promote(@PathParam("id") String id, @Context UriInfo uri) {
        RaftNode node = RunningNode.of(server);
        if (node.role() != Role.LEADER) {
            return redirect(node, uri);
        }
        if (!node.configuration().isLearner(id)) {
            throw ProblemException.badRequest("'" + id + "' is not a learner (" + node.configuration() + ")");
        }
        return change(node, ConfChange.promote(id), uri);
    }

    @DELETE
    @Path("{id}")
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> remove(@PathParam("id") String id, @QueryParam("force") String force,
                                            @Context UriInfo uri) {
        RaftNode node = RunningNode.of(server);
        if (node.role() != Role.LEADER) {
            return redirect(node, uri);
        }
        Configuration c = node.configuration();
        if (!c.isMember(id)) {
            throw ProblemException.badRequest("'" + id + "' is not a member (" + c + ")");
        }
        if (!c.isVoter(id) || "true".equals(force)) {
            return change(node, ConfChange.remove(id), uri);
        }
        // Removing a voter: the voters left must still have a live quorum, or the cluster stops.
        return quorumAfterRemoval(node, id).thenCompose(refusal -> refusal != null
                ? CompletableFuture.completedFuture(refusal) : change(node, ConfChange.remove(id), uri));
    }

    /**
     * Replaces a member that came back with another data directory (its peers refuse it: see
     * {@code io.raftkv.membership.Identity}) by that new incarnation: removes the old one, then adds the new one as a
     * learner at the same URL; the leader promotes it once it has caught up (from a snapshot, as a new member).
     */
    @POST
    @Path("{id}/replace")
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> replace(@PathParam("id") String id, @QueryParam("force") String force,
                                             @Context UriInfo uri) {
        RaftNode node = RunningNode.of(server);
        if (node.role() != Role.LEADER) {
            return redirect(node, uri);
        }
        URI url = server.directory().url(id);
        if (url == null) {
            throw ProblemException.badRequest("'" + id + "' has no known URL: add it with POST /v1/members instead");
        }
        String incarnation = server.identity().presentedIncarnation(id);
        if (incarnation == null) {
            return CompletableFuture.completedFuture(Problem.of(409, "Conflict", "no other incarnation of " + id
                    + " has contacted this leader: start the replacement (same id and URL, empty data directory) first,"
                    + " then retry", Map.of("reason", "NO_NEW_INCARNATION")));
        }
        MemberContext ctx = new MemberContext(url, false, incarnation, server.directory().peerUrl(id));
        Configuration c = node.configuration();
        if (!c.isMember(id)) {
            return change(node, ConfChange.addLearner(id, ctx.encode()), uri);
        }
        CompletionStage<Response> check = c.isVoter(id) && !"true".equals(force) ? quorumAfterRemoval(node, id)
                : CompletableFuture.completedFuture(null);
        return check.thenCompose(refusal -> {
            if (refusal != null) {
                return CompletableFuture.completedFuture(refusal);
            }
            return node.proposeConfChange(ConfChange.remove(id)).handle((r, err) -> err)
                    .thenCompose(err -> err != null ? CompletableFuture.completedFuture(failure(node, err, uri))
                            : change(node, ConfChange.addLearner(id, ctx.encode()), uri));
        });
    }

    /**
     * 412 when removing voter {@code id} would leave fewer live voters than a quorum; null when it is safe. A voter is
     * live if the leader has heard from it recently. The core clears that flag at each CheckQuorum round and sets it
     * again on the next answer, so up to three looks, 100 ms apart, are taken before a voter counts as not live.
     */
    private CompletionStage<Response> quorumAfterRemoval(RaftNode node, String id) {
        return quorumAfterRemoval(node, id, new java.util.HashSet<>(), 3);
    }

    private CompletionStage<Response> quorumAfterRemoval(RaftNode node, String id, java.util.Set<String> live, int looks) {
        return node.status(0, 0).thenCompose(s -> {
            List<String> left = new ArrayList<>(s.raft().configuration().voters());
            left.remove(id);
            for (String v : left) {
                RaftStatus.PeerProgress p = s.raft().peers().get(v);
                if (v.equals(server.nodeId()) || (p != null && p.recentActive())) {
                    live.add(v);
                }
            }
            int quorum = left.size() / 2 + 1;
            long liveLeft = left.stream().filter(live::contains).count();
            if (liveLeft >= quorum) {
                return CompletableFuture.completedFuture(null);
            }
            if (looks > 1) {
                return CompletableFuture.supplyAsync(() -> null,
                                CompletableFuture.delayedExecutor(100, java.util.concurrent.TimeUnit.MILLISECONDS))
                        .thenCompose(x -> quorumAfterRemoval(node, id, live, looks - 1));
            }
            return CompletableFuture.completedFuture(Problem.of(412, "Precondition Failed", "removing " + id
                    + " would leave " + liveLeft + " live voters of " + left.size() + ", fewer than a quorum of " + quorum
                    + "; the cluster would stop taking writes. Bring members back first, or add ?force=true (unsafe)",
                    Map.of("liveVoters", liveLeft, "quorum", quorum)));
        });
    }

    private CompletionStage<Response> change(RaftNode node, ConfChange change, UriInfo uri) {
        return node.proposeConfChange(change).handle((r, err) -> err == null ? applied(node, change, r) : failure(node, err, uri));
    }

    private Response applied(RaftNode node, ConfChange change, ApplyResult r) {
        Configuration c = node.configuration();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("change", change.type().name());
        body.put("id", change.nodeId());
        body.put("index", r.index());
        body.put("term", r.term());
        body.put("voters", c.voters());
        body.put("learners", c.learners());
        return Response.ok(body).build();
    }

    private Response failure(RaftNode node, Throwable err, UriInfo uri) {
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (e instanceof ConfChangeRefusedException refused) {
            if (refused.reason() == ConfChangeRefusedException.Reason.INVALID) {
                return Problem.of(400, "Bad Request", e.getMessage());
            }
            return Problem.builder(409, "Conflict", e.getMessage() + " (" + refused.reason() + "); retry shortly",
                    Map.of("reason", refused.reason().name())).header("Retry-After", "1").build();
        }
        if (e instanceof NotLeaderException nl) {
            return KvResource.toLeader(server, tls, nl.leaderId(), uri, "only the leader changes membership");
        }
        if (e instanceof ProposalLostException) {
            return Problem.unavailable(e.getMessage() + "; not applied, safe to retry");
        }
        if (e instanceof TimeoutException || e instanceof OutcomeUnknownException) {
            return Problem.of(504, "Gateway Timeout", "the change was proposed but is not known to be committed ("
                    + e.getMessage() + "); check GET /v1/members before retrying");
        }
        return Problem.of(504, "Gateway Timeout", String.valueOf(e.getMessage()) + "; the outcome is unknown");
    }

    private CompletionStage<Response> redirect(RaftNode node, UriInfo uri) {
        return CompletableFuture.completedFuture(KvResource.toLeader(server, tls, node.leaderId(), uri,
                "only the leader changes membership; the leader is " + node.leaderId()));
    }
}
