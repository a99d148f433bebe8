package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.server.RaftkvServer;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * GET /v1/snapshot: this node's newest snapshot file as it is on disk (its format is self-checking: a CRC-32C trailer),
 * with its index and term in {@code X-Raftkv-Snapshot-Index} and {@code X-Raftkv-Snapshot-Term}; 404 if it has none.
 * What {@code raftkvctl snapshot save} downloads from the leader after asking it for a fresh one.
 * <p>
 * POST /v1/snapshot: takes a snapshot of this node's state machine now (at its applied index) and compacts its log
 * behind it, less the configured margin. Answers once the snapshot is durable. Every node snapshots on its own.
 */
@Path("/v1/snapshot")
public class SnapshotResource {

    /** On a downloaded snapshot: the log index and term it is of. */
    public static final String INDEX_HEADER = "X-Raftkv-Snapshot-Index";
    public static final String TERM_HEADER = "X-Raftkv-Snapshot-Term";

    @Inject
    RaftkvServer server;

    @GET
    @Produces(MediaType.APPLICATION_OCTET_STREAM)
    public Response download() {
        RunningNode.of(server);
        var snaps = server.snapshots();
        var latest = snaps == null ? java.util.Optional.<io.raftkv.snapshot.SnapshotInfo>empty() : snaps.store().latest();
        if (latest.isEmpty()) {
            throw new ProblemException(Problem.of(404, "Not Found", "node " + server.nodeId() + " has no snapshot yet"
                    + " (POST /v1/snapshot takes one)"));
        }
        var info = latest.get();
        java.io.InputStream in;
        try {
            in = java.nio.file.Files.newInputStream(info.file()); // open now: a newer snapshot may delete the file
        } catch (java.io.IOException e) {
            throw new ProblemException(Problem.unavailable("the snapshot " + info.file().getFileName()
                    + " was just replaced by a newer one: try again"));
        }
        jakarta.ws.rs.core.StreamingOutput body = out -> {
            try (in) {
                in.transferTo(out);
            }
        };
        return Response.ok(body, MediaType.APPLICATION_OCTET_STREAM)
                .header(INDEX_HEADER, info.index())
                .header(TERM_HEADER, info.term())
                .header("Content-Length", info.sizeBytes())
                .header("Content-Disposition", "attachment; filename=\"" + info.file().getFileName() + "\"").build();
    }

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
