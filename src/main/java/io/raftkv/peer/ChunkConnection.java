package io.raftkv.peer;

import io.raftkv.snapshot.SnapshotChannel;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** A peer connection that carries one snapshot transfer: CHUNK frames, each answered by a CHUNK_REPLY. */
final class ChunkConnection implements SnapshotChannel.ChunkStream {

    private final PeerConnection conn;
    private final Duration timeout;
    private final Supplier<StreamPeerTransport.SenderIdentity> identity;
    private final Map<Long, CompletableFuture<SnapshotChannel.Reply>> pending;
    private final AtomicLong ids = new AtomicLong();

    private ChunkConnection(PeerConnection conn, Duration timeout, Supplier<StreamPeerTransport.SenderIdentity> identity,
                            Map<Long, CompletableFuture<SnapshotChannel.Reply>> pending) {
        this.conn = conn;
        this.timeout = timeout;
        this.identity = identity;
        this.pending = pending;
    }

    static ChunkConnection open(Vertx vertx, NetClient client, boolean tls, String self, String peer, URI address,
                                Duration timeout, int maxFrameBytes, Supplier<StreamPeerTransport.SenderIdentity> identity)
            throws Exception {
        Map<Long, CompletableFuture<SnapshotChannel.Reply>> pending = new ConcurrentHashMap<>();
        CompletableFuture<PeerConnection> opened = new CompletableFuture<>();
        vertx.runOnContext(v -> PeerConnection.open(vertx, client, tls, self, peer, address, timeout, maxFrameBytes, body -> {
            if (PeerFrames.type(body) == PeerFrames.Type.CHUNK_REPLY) {
                PeerFrames.ChunkReply r = PeerFrames.decodeChunkReply(body);
                CompletableFuture<SnapshotChannel.Reply> f = pending.remove(r.id());
                if (f != null) {
                    f.complete(new SnapshotChannel.Reply(r.status(), r.expectedOffset(), r.detail()));
                }
            }
        }, () -> pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("connection to " + peer + " closed"))))
                .onComplete(ar -> {
                    if (ar.succeeded()) {
                        opened.complete(ar.result());
                    } else {
                        opened.completeExceptionally(ar.cause());
                    }
                }));
        return new ChunkConnection(opened.get(timeout.toMillis() * 2, TimeUnit.MILLISECONDS), timeout, identity, pending);
    }

    @Override
    public SnapshotChannel.Reply send(long term, long index, long snapshotTerm, long offset, long total, byte[] data)
            throws Exception {
        long id = ids.incrementAndGet();
        CompletableFuture<SnapshotChannel.Reply> reply = new CompletableFuture<>();
        pending.put(id, reply);
        if (!conn.isOpen()) {
            pending.remove(id);
            throw new IllegalStateException("snapshot connection closed");
        }
        StreamPeerTransport.SenderIdentity who = identity.get();
        conn.write(PeerFrames.chunk(new PeerFrames.Chunk(id, who.cluster(), who.incarnation(), term, index, snapshotTerm,
                offset, total, data)));
        try {
            return reply.get(timeout.toMillis() * 4, TimeUnit.MILLISECONDS);
        } finally {
            pending.remove(id);
        }
    }

    @Override
    public void close() {
        conn.close();
    }
}
