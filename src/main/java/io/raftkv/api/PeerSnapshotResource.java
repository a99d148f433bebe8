package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.server.RaftkvServer;
import io.raftkv.snapshot.KvNodeSnapshots;
import io.raftkv.storage.StorageException;
import io.raftkv.transport.HttpPeerTransport;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;
import java.util.Map;

/**
 * InstallSnapshot, follower side: one chunk of the leader's snapshot file per request (see {@link KvNodeSnapshots}
 * for the exchange). When the last chunk completes a verified file, the SNAPSHOT message goes to the Raft core,
 * which decides whether to install it.
 */
@Path(KvNodeSnapshots.PATH)
public class PeerSnapshotResource {

    @Inject
    RaftkvServer server;

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response receive(@HeaderParam(HttpPeerTransport.SENDER_HEADER) String sender,
                            @HeaderParam(HttpPeerTransport.CLUSTER_HEADER) String cluster,
                            @HeaderParam(HttpPeerTransport.INCARNATION_HEADER) String incarnation,
                            @HeaderParam(KvNodeSnapshots.TERM_HEADER) String term,
                            @HeaderParam(KvNodeSnapshots.INDEX_HEADER) String index,
                            @HeaderParam(KvNodeSnapshots.SNAPSHOT_TERM_HEADER) String snapshotTerm,
                            @HeaderParam(KvNodeSnapshots.OFFSET_HEADER) String offset,
                            @HeaderParam(KvNodeSnapshots.TOTAL_HEADER) String total,
                            byte[] body) {
        RaftNode node = RunningNode.of(server);
        String self = server.nodeId();
        if (sender == null || !server.members().containsKey(sender) || sender.equals(self)) {
            return Problem.of(403, "Forbidden", "unknown sender '" + sender + "': not a member of this cluster");
        }
        Response refused = PeerAdmission.refusal(server, sender, cluster, incarnation);
        if (refused != null) {
            return refused;
        }
        long msgTerm = number(term, KvNodeSnapshots.TERM_HEADER, 1);
        SnapshotMeta meta;
        try {
            meta = new SnapshotMeta(number(index, KvNodeSnapshots.INDEX_HEADER, 1), number(snapshotTerm, KvNodeSnapshots.SNAPSHOT_TERM_HEADER, 1));
        } catch (IllegalArgumentException e) {
            throw ProblemException.badRequest(e.getMessage());
        }
        long at = number(offset, KvNodeSnapshots.OFFSET_HEADER, 0);
        long size = number(total, KvNodeSnapshots.TOTAL_HEADER, 1);
        if (msgTerm < node.term()) {
            return Problem.of(409, "Conflict", "snapshot from a leader of term " + msgTerm + "; this node is in term " + node.term());
        }
        // The file, then a KV store rebuilt from it: refuse at the first chunk what would fill the disk.
        if (at == 0 && !server.diskSpace().hasRoomFor(2 * size)) {
            return RunningNode.diskFull(server, "a snapshot of " + size + " bytes does not fit: "
                    + server.diskSpace().usableBytes() + " bytes free, at least " + server.diskSpace().minFreeBytes()
                    + " must stay free");
        }
        KvNodeSnapshots.ChunkResult r;
        try {
            r = server.snapshots().receive(meta, size, at, body == null ? new byte[0] : body);
        } catch (StorageException e) {
            return Problem.of(422, "Unprocessable Content", "snapshot " + meta + " rejected: " + e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException e) {
            throw ProblemException.badRequest("snapshot chunk rejected: " + e.getMessage());
        }
        return switch (r.status()) {
            case MORE -> Response.noContent().build();
            case OUT_OF_ORDER -> Problem.builder(409, "Conflict", "expected offset " + r.expectedOffset(),
                    Map.of("expectedOffset", r.expectedOffset()))
                    .header(KvNodeSnapshots.EXPECTED_OFFSET_HEADER, Long.toString(r.expectedOffset())).build();
            case COMPLETE -> {
                // The configuration as of the snapshot travels in the file's header, and on to the core.
                node.receive(List.of(Message.builder(MessageType.SNAPSHOT, sender, self, msgTerm)
                        .index(meta.index()).logTerm(meta.term()).configuration(r.snapshot().configuration()).build()));
                yield Response.ok(Map.of("index", meta.index(), "term", meta.term(), "bytes", size)).build();
            }
        };
    }

    private static long number(String v, String header, long min) {
        try {
            long n = Long.parseLong(v);
            if (n < min) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw ProblemException.badRequest("header " + header + " must be an integer of at least " + min + ", got '" + v + "'");
        }
    }
}
