package io.raftkv.server;

import io.raftkv.membership.Identity;
import io.raftkv.node.RaftNode;
import io.raftkv.peer.PeerFrames;
import io.raftkv.peer.PeerGate;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.snapshot.KvNodeSnapshots;
import io.raftkv.storage.StorageException;
import io.raftkv.transport.MalformedMessageException;
import io.raftkv.transport.MessageCodec;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the peer listener lets through to the node, checked in this order: the certificate names the sender the
 * connection claims (with TLS), the sender is a current member other than this node, its cluster and incarnation are
 * the known ones ({@link Identity}), the batch decodes and every message in it is from the sender to this node, and
 * it breaks none of Raft's rules only a forger would ({@link RaftNode#receive(List, java.util.function.Consumer)}).
 * A refusal is counted by reason (GET /v1/status {@code peerRejections}, metric {@code raftkv_peer_rejections_total})
 * and logged at most once per reason every 10 seconds.
 */
final class NodePeerGate implements PeerGate {

    private static final Logger LOG = Logger.getLogger(NodePeerGate.class);
    private static final long LOG_EVERY_NANOS = 10_000_000_000L;

    private final RaftkvServer server;
    private final Map<String, AtomicLong> rejections = new ConcurrentHashMap<>();
    private final Map<String, long[]> lastLogged = new ConcurrentHashMap<>();

    NodePeerGate(RaftkvServer server) {
        this.server = server;
    }

    /** Refusals since start, by reason. */
    Map<String, Long> rejections() {
        Map<String, Long> out = new TreeMap<>();
        rejections.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    @Override
    public void rejected(String reason, String detail) {
        String key = reason.toLowerCase(Locale.ROOT);
        rejections.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
        long now = System.nanoTime();
        long[] last = lastLogged.computeIfAbsent(key, k -> new long[] {now - LOG_EVERY_NANOS - 1, 0});
        synchronized (last) {
            if (now - last[0] > LOG_EVERY_NANOS) {
                LOG.warnf("peer listener refused (%s): %s%s", reason, detail,
                        last[1] > 0 ? " (and " + last[1] + " more refusals of this kind since the last report)" : "");
                last[0] = now;
                last[1] = 0;
            } else {
                last[1]++;
            }
        }
    }

    private PeerFrames.Refused refuse(String reason, String detail) {
        rejected(reason, detail);
        return new PeerFrames.Refused(reason, detail);
    }

    @Override
    public PeerFrames.Refused hello(String certifiedId, PeerFrames.Hello hello) {
        // With TLS the listener has checked that the certificate names hello.from().
        if (!hello.to().equals(server.nodeId())) {
            return refuse("TARGET", "this is " + server.nodeId() + ", not " + hello.to());
        }
        return member(hello.from());
    }

    private PeerFrames.Refused member(String sender) {
        Map<String, ?> members = server.members();
        if (members == null || !members.containsKey(sender) || sender.equals(server.nodeId())) {
            return refuse("MEMBER", "unknown sender '" + sender + "': not a member of this cluster");
        }
        return null;
    }

    @Override
    public PeerFrames.Refused messages(String sender, PeerFrames.Messages frame) {
        RaftNode node = server.node();
        if (node == null) {
            return new PeerFrames.Refused("UNAVAILABLE", server.nodeId() + " is not running (starting, stopping or disk full)");
        }
        PeerFrames.Refused r = member(sender);
        if (r == null) {
            r = admission(sender, frame.cluster(), frame.incarnation());
        }
        if (r != null) {
            return r;
        }
        List<Message> batch;
        try {
            batch = MessageCodec.decode(frame.batch());
        } catch (MalformedMessageException e) {
            return refuse("MALFORMED", "malformed peer message from " + sender + ": " + e.getMessage());
        }
        String self = server.nodeId();
        for (Message m : batch) {
            if (m.type() == MessageType.SNAPSHOT) {
                return refuse("MALFORMED", "SNAPSHOT messages are only accepted with their data, as snapshot chunks");
            }
            if (!m.from().equals(sender) || !m.to().equals(self)) {
                return refuse("MISADDRESSED", "message from " + m.from() + " to " + m.to() + " on a connection from "
                        + sender + " to " + self);
            }
        }
        node.receive(batch, why -> rejected("FORGED", "batch from " + sender + ": " + why));
        return null;
    }

    /** The cluster and incarnation check (counted in refusedPeerMessages as before). */
    private PeerFrames.Refused admission(String sender, String cluster, String incarnation) {
        String c = cluster == null || cluster.isEmpty() ? null : cluster;
        Identity.Refusal refusal = server.admitPeer(sender, c, incarnation);
        if (refusal == null) {
            return null;
        }
        String detail = refusal == Identity.Refusal.INCARNATION
                ? "this node knows " + sender + " by another data directory (incarnation "
                  + server.identity().peerIncarnation(sender) + ", not " + incarnation + "): replace the member"
                : "not of this cluster (cluster " + c + ", this is " + server.identity().clusterId() + ")";
        return new PeerFrames.Refused(refusal.name(), detail);
    }

    @Override
    public PeerFrames.ChunkReply chunk(String sender, PeerFrames.Chunk c) {
        RaftNode node = server.node();
        KvNodeSnapshots snapshots = server.snapshots();
        if (node == null || snapshots == null) {
            return reply(c, 503, "this node is not running");
        }
        PeerFrames.Refused refused = member(sender);
        if (refused == null) {
            refused = admission(sender, c.cluster(), c.incarnation());
        }
        if (refused != null) {
            return reply(c, 403, refused.reason() + ": " + refused.detail());
        }
        if (c.term() < 1 || c.index() < 1 || c.snapshotTerm() < 1 || c.offset() < 0 || c.total() < 1) {
            return reply(c, 400, "snapshot chunk with a term, index or size below 1, or a negative offset");
        }
        SnapshotMeta meta = new SnapshotMeta(c.index(), c.snapshotTerm());
        if (c.term() < node.term()) {
            return reply(c, 409, KvNodeSnapshots.STALE_TERM + ": snapshot from a leader of term " + c.term()
                    + "; this node is in term " + node.term());
        }
        // The file, then a KV store rebuilt from it: refuse at the first chunk what would fill the disk.
        if (c.offset() == 0 && !server.diskSpace().hasRoomFor(2 * c.total())) {
            return reply(c, 507, "a snapshot of " + c.total() + " bytes does not fit: " + server.diskSpace().usableBytes()
                    + " bytes free, at least " + server.diskSpace().minFreeBytes() + " must stay free");
        }
        KvNodeSnapshots.ChunkResult r;
        try {
            r = snapshots.receive(meta, c.total(), c.offset(), c.data());
        } catch (StorageException e) {
            return reply(c, 422, "snapshot " + meta + " rejected: " + e.getMessage());
        } catch (IllegalArgumentException | IllegalStateException e) {
            return reply(c, 400, "snapshot chunk rejected: " + e.getMessage());
        }
        return switch (r.status()) {
            case MORE -> reply(c, 204, "");
            case OUT_OF_ORDER -> new PeerFrames.ChunkReply(c.id(), 409, r.expectedOffset(), "expected offset " + r.expectedOffset());
            case COMPLETE -> {
                // The configuration as of the snapshot travels in the file's header, and on to the core.
                node.receive(List.of(Message.builder(MessageType.SNAPSHOT, sender, server.nodeId(), c.term())
                        .index(meta.index()).logTerm(meta.term()).configuration(r.snapshot().configuration()).build()),
                        why -> rejected("FORGED", "snapshot from " + sender + ": " + why));
                yield reply(c, 200, "");
            }
        };
    }

    private static PeerFrames.ChunkReply reply(PeerFrames.Chunk c, int status, String detail) {
        return new PeerFrames.ChunkReply(c.id(), status, -1, detail);
    }
}
