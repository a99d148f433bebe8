package io.raftkv.api;

import io.raftkv.node.RaftNode;
import io.raftkv.raft.Message;
import io.raftkv.server.RaftkvServer;
import io.raftkv.transport.HttpPeerTransport;
import io.raftkv.transport.MalformedMessageException;
import io.raftkv.transport.MessageCodec;
import jakarta.inject.Inject;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import java.util.List;

/**
 * The peer RPC endpoint: a batch of Raft messages from another member. The batch is validated as a whole (decodes,
 * comes from a known member other than us, addressed to us) and rejected as a whole otherwise; it is never partially
 * applied. Responses travel back as the peer's own requests, so this answers 204 at once.
 */
@Path(HttpPeerTransport.PATH)
public class PeerResource {

    @Inject
    RaftkvServer server;

    @POST
    @Consumes(MediaType.WILDCARD)
    public Response receive(@HeaderParam(HttpPeerTransport.SENDER_HEADER) String sender,
                            @HeaderParam(HttpPeerTransport.CLUSTER_HEADER) String cluster,
                            @HeaderParam(HttpPeerTransport.INCARNATION_HEADER) String incarnation, byte[] body) {
        RaftNode node = RunningNode.of(server);
        String self = server.nodeId();
        if (sender == null || !server.members().containsKey(sender) || sender.equals(self)) {
            return Problem.of(403, "Forbidden", "unknown sender '" + sender + "': not a member of this cluster");
        }
        Response refused = PeerAdmission.refusal(server, sender, cluster, incarnation);
        if (refused != null) {
            return refused;
        }
        List<Message> batch;
        try {
            batch = MessageCodec.decode(body);
        } catch (MalformedMessageException e) {
            return Problem.of(400, "Bad Request", "malformed peer message: " + e.getMessage());
        }
        for (Message m : batch) {
            if (m.type() == io.raftkv.raft.MessageType.SNAPSHOT) {
                // A snapshot's data comes through /raft/snapshot, which steps the message itself once it has it all.
                return Problem.of(400, "Bad Request", "SNAPSHOT messages are only accepted with their data, on "
                        + io.raftkv.snapshot.KvNodeSnapshots.PATH);
            }
            if (!m.from().equals(sender) || !m.to().equals(self)) {
                return Problem.of(400, "Bad Request", "message from " + m.from() + " to " + m.to() + " in a batch from " + sender + " to " + self);
            }
        }
        node.receive(batch);
        return Response.noContent().build();
    }
}
