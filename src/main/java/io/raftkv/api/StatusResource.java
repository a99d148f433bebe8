package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.server.RaftkvServer;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** GET /v1/status: what an operator needs to see a node's place in the cluster. */
@Path("/v1/status")
public class StatusResource {

    /**
     * "native" in a GraalVM native executable (native-image sets this property at run time), else "jvm". Read per call,
     * not in a static initializer, which native-image may run at build time.
     */
    static String runtime() {
        return "runtime".equals(System.getProperty("org.graalvm.nativeimage.imagecode")) ? "native" : "jvm";
    }

    @Inject
    RaftkvServer server;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Map<String, Object>> status() {
        if (server.node() == null && server.diskFull() != null) {
            return java.util.concurrent.CompletableFuture.completedFuture(stoppedForDiskFull(server.diskFull()));
        }
        RaftNode node = RunningNode.of(server);
        long keys = RunningNode.stateMachine(server).size();
        return node.status(keys, server.droppedPeerMessages()).thenApply(s -> {
            var r = s.raft();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("id", r.id());
            out.put("url", s.url());
            out.put("role", r.role().name().toLowerCase());
            out.put("term", r.term());
            out.put("votedFor", r.votedFor());
            out.put("leader", r.leader());
            out.put("leaderUrl", s.leaderUrl());
            out.put("leaderSince", s.leaderSinceMillis() == 0 ? null
                    : java.time.Instant.ofEpochMilli(s.leaderSinceMillis()).toString());
            out.put("commitIndex", r.commitIndex());
            out.put("lastApplied", r.lastApplied());
            out.put("firstIndex", r.firstIndex());
            out.put("lastIndex", r.lastIndex());
            out.put("lastTerm", r.lastTerm());
            Map<String, Object> peers = new LinkedHashMap<>();
            r.peers().forEach((id, p) -> peers.put(id, KvResource.body("matchIndex", p.matchIndex(), "nextIndex", p.nextIndex(),
                    "state", p.state().toLowerCase(), "recentActive", p.recentActive())));
            out.put("peers", peers);
            out.put("configuration", KvResource.body("voters", r.configuration().voters(), "learners",
                    r.configuration().learners()));
            var identity = server.identity();
            out.put("identity", KvResource.body("clusterId", identity.clusterId(), "incarnation", identity.incarnation()));
            if (server.mustBeReplaced() != null) {
                out.put("mustBeReplaced", server.mustBeReplaced());
            }
            out.put("refusedPeerMessages", server.refusedPeerMessages());
            out.put("peer", KvResource.body("port", server.peerPort(), "tls", server.peerTlsOn(),
                    "connectionsOpened", server.peerConnectionsOpened()));
            out.put("peerRejections", server.peerRejections());
            out.put("members", s.members());
            out.put("keys", s.keys());
            out.put("droppedPeerMessages", s.droppedPeerMessages());
            out.put("dataDir", server.dataDir().toString());
            out.put("runtime", runtime());
            out.put("storage", "ok");
            storage(out);
            return out;
        });
    }

    /** While the disk is full the Raft side is stopped: what the node can still tell. */
    private Map<String, Object> stoppedForDiskFull(String why) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", server.nodeId());
        out.put("url", String.valueOf(server.members().get(server.nodeId())));
        out.put("role", "stopped");
        out.put("storage", "disk full: " + why);
        var sm = server.stateMachine();
        out.put("lastApplied", sm == null ? 0 : sm.lastApplied());
        out.put("keys", sm == null ? 0 : sm.size());
        out.put("dataDir", server.dataDir().toString());
        out.put("runtime", runtime());
        storage(out);
        return out;
    }

    private void storage(Map<String, Object> out) {
        out.put("diskFreeBytes", server.diskSpace().usableBytes());
        out.put("diskMinFreeBytes", server.diskSpace().minFreeBytes());
        out.put("diskFullEpisodes", server.diskFullEpisodes());
        var snaps = server.snapshots();
        if (snaps != null) {
            var latest = snaps.latest();
            out.put("snapshot", KvResource.body("index", latest.index(), "term", latest.term(),
                    "sizeBytes", snaps.latestSizeBytes(), "inProgress", snaps.inProgress(),
                    "receivedFromLeader", snaps.receivedSnapshot()));
        }
        out.put("logBytes", server.logBytesOnDisk());
        var sm = server.stateMachine();
        out.put("kvBytes", sm == null ? 0 : sm.sizeOnDiskBytes());
        out.put("kvFlushedIndex", sm == null ? 0 : sm.flushedIndex());
    }
}
