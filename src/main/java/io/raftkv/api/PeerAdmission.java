package io.raftkv.api;

import io.raftkv.membership.Identity;
import io.raftkv.server.RaftkvServer;
import io.raftkv.transport.HttpPeerTransport;
import jakarta.ws.rs.core.Response;

/** The identity check of both peer endpoints (messages and snapshot chunks): see {@link Identity}. */
final class PeerAdmission {

    private PeerAdmission() {
    }

    /** Null if {@code sender}'s cluster and incarnation are accepted; else the 403 that says why. */
    static Response refusal(RaftkvServer server, String sender, String cluster, String incarnation) {
        Identity.Refusal refusal = server.admitPeer(sender, cluster, incarnation);
        if (refusal == null) {
            return null;
        }
        String detail = refusal == Identity.Refusal.INCARNATION
                ? "this node knows " + sender + " by another data directory (incarnation "
                  + server.identity().peerIncarnation(sender) + ", not " + incarnation + "): replace the member"
                : "not of this cluster (cluster " + cluster + ", this is " + server.identity().clusterId() + ")";
        return Problem.builder(403, "Forbidden", detail, null).header(HttpPeerTransport.REFUSED_HEADER, refusal.name()).build();
    }
}
