package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.server.RaftkvServer;
import jakarta.inject.Inject;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * POST /v1/snapshot: takes a snapshot of this node's state machine now (at its applied index) and compacts its log
 * behind it, less the configured margin. Answers once the snapshot is durable. Every node snapshots on its own.
 */
@Path("/v1/snapshot")
public class SnapshotResource {

    @Inject
    RaftkvServer server;

    @POST
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Response> take() {
        RaftNode node = RunningNode.of(server);
        return node.snapshot(true).handle((meta, err) -> {
            if (err != null) {
                Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                if (e instanceof io.raftkv.storage.DiskFullException) {
                    return RunningNode.diskFull(server, e.getMessage());
                }
                if (e instanceof IllegalStateException) {
                    return Problem.of(409, "Conflict", e.getMessage());
                }
                return Problem.of(500, "Internal Server Error", "snapshot failed: " + e.getMessage());
            }
            return Response.ok(Map.of("index", meta.index(), "term", meta.term(),
                    "sizeBytes", server.snapshots().latestSizeBytes(), "firstIndex", server.logFirstIndex())).build();
        });
    }
}
