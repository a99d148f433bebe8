package io.raftkv.peer;

import io.raftkv.raft.Message;
import io.raftkv.snapshot.SnapshotChannel;
import io.raftkv.transport.MessageCodec;
import io.raftkv.transport.PeerAnswers;
import io.raftkv.transport.PeerTransport;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Peer messages over long-lived connections to each peer's listener ({@link PeerListener}), TLS with mutual
 * authentication unless peer TLS is off. One connection and one bounded queue per peer: {@link #send} only queues
 * and returns; the link's Vert.x context drains the queue into MESSAGES frames of a few MB, written one after the
 * other without waiting for replies (Raft's responses travel back as the peer's own messages). While the socket's
 * write buffer is full the queue fills; a full queue drops its oldest messages (Raft retries). A lost connection is
 * re-established with exponential backoff (50 ms doubling to 2 s, with jitter); what was queued for a dead peer is
 * dropped. Snapshot chunks go over a connection of their own per transfer ({@link #openChunks}).
 */
public final class StreamPeerTransport implements PeerTransport, SnapshotChannel {

    /** The sender's cluster id (null until it knows one) and incarnation, on every batch and chunk. */
    public record SenderIdentity(String cluster, String incarnation) {
    }

    private static final Logger LOG = Logger.getLogger(StreamPeerTransport.class.getName());
    static final int MAX_QUEUED = 20_000;
    private static final int BATCH_BYTES_HINT = 4 << 20;
    private static final long MIN_BACKOFF_MS = 50;
    private static final long MAX_BACKOFF_MS = 2_000;

    private final Vertx vertx;
    private final String selfId;
    private final Function<String, URI> addresses;
    private final boolean tls;
    private final NetClient client;
    private final Duration timeout;
    private final int maxFrameBytes;
    private final Map<String, Link> links = new ConcurrentHashMap<>();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong connects = new AtomicLong();
    private volatile boolean closed;
    private volatile Supplier<SenderIdentity> identity = () -> new SenderIdentity(null, "");
    private volatile PeerAnswers answers = PeerAnswers.NONE;
    private volatile PeerStats stats = PeerStats.NONE;
    /** How often a connected link measures its round trip (a PING; the PONG comes back behind queued data). */
    static final long PING_INTERVAL_MS = 1_000;

    /**
     * @param addresses each peer's listener address ({@code raftkv://host:port}), looked up live (members come and go)
     * @param tls       null: plain TCP (raftkv.peer-tls=false)
     */
    public StreamPeerTransport(Vertx vertx, String selfId, Function<String, URI> addresses, PeerTls tls, Duration timeout,
                               int maxFrameBytes) {
        this.vertx = vertx;
        this.selfId = selfId;
        this.addresses = addresses;
        this.tls = tls != null;
        this.timeout = timeout;
        this.maxFrameBytes = maxFrameBytes;
        NetClientOptions o = new NetClientOptions().setConnectTimeout((int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .setTcpNoDelay(true);
        this.client = vertx.createNetClient(tls == null ? o : tls.client(o));
    }

    public void identity(Supplier<SenderIdentity> identity, PeerAnswers answers) {
        this.identity = identity;
        this.answers = answers;
    }

    /**
     * New connections (to peers and for snapshot chunks) present the key and certificate and trust the CA in
     * {@code options}; connections already open keep theirs until they end.
     */
    public io.vertx.core.Future<Boolean> reloadTls(io.vertx.core.net.SSLOptions options) {
        return client.updateSSLOptions(options, true);
    }

    /** Where round-trip times and send failures go (metrics). */
    public void stats(PeerStats stats) {
        this.stats = stats == null ? PeerStats.NONE : stats;
    }

    @Override
    public void send(List<Message> messages) {
        for (Message m : messages) {
            Link l = link(m.to());
            if (l != null) {
                l.enqueue(m);
            }
        }
    }

    private Link link(String peerId) {
        URI address = addresses.apply(peerId);
        Link l = links.get(peerId);
        if (l != null && l.address.equals(address)) {
            return l;
        }
        synchronized (links) {
            l = links.get(peerId);
            if (closed || address == null || peerId.equals(selfId)) {
                return null; // no address (yet): dropped, Raft retries
            }
            if (l != null && l.address.equals(address)) {
                return l;
            }
            if (l != null) {
                l.shutdown(); // the member's peer address changed
            }
            l = new Link(peerId, address);
            links.put(peerId, l);
            return l;
        }
    }

    /** Messages dropped because a peer's queue was full or its connection failed. */
    public long droppedMessages() {
        return dropped.get();
    }

    /** Connections established since start (one per peer while all is well: none per batch). */
    public long connectionsOpened() {
        return connects.get();
    }

    /** Whether the link to {@code peerId} is connected and past its HELLO. */
    public boolean connected(String peerId) {
        Link l = links.get(peerId);
        return l != null && l.conn != null && l.conn.isOpen();
    }

    @Override
    public void close() {
        synchronized (links) {
            closed = true;
            links.values().forEach(Link::shutdown);
            links.clear();
        }
        client.close();
    }

    // ---------------------------------------------------------------------------------------------------------------

    private final class Link {
        final String peerId;
        final URI address;
        final Context context = vertx.getOrCreateContext();
        private final ArrayDeque<Message> queue = new ArrayDeque<>();
        private final AtomicBoolean flushScheduled = new AtomicBoolean();
        // Touched on the context only:
        volatile PeerConnection conn;
        boolean connecting;
        boolean stopped;
        int failures;
        long nextAttemptNanos;
        boolean retryTimerSet;
        long refusalsLogged;
        long pingTimer = -1;

        Link(String peerId, URI address) {
            this.peerId = peerId;
            this.address = address;
        }

        void enqueue(Message m) {
            int overflowed = 0;
            synchronized (queue) {
                queue.addLast(m);
                while (queue.size() > MAX_QUEUED) {
                    queue.pollFirst();
                    overflowed++;
                }
            }
            if (overflowed > 0) {
                dropped(overflowed);
            }
            if (flushScheduled.compareAndSet(false, true)) {
                context.runOnContext(v -> flush());
            }
        }

        private void dropped(long messages) {
            dropped.addAndGet(messages);
            stats.sendFailed(peerId, messages);
        }

        /** Every PING_INTERVAL_MS while connected to a listener that answers: a PING stamped with the send time. */
        private void startPinging(PeerConnection c) {
            stopPinging();
            if (!c.answersPing()) {
                return;
            }
            pingTimer = vertx.setPeriodic(PING_INTERVAL_MS, PING_INTERVAL_MS, t -> {
                if (conn == c && c.isOpen()) {
                    c.write(PeerFrames.ping(System.nanoTime()));
                } else {
                    stopPinging();
                }
            });
        }

        private void stopPinging() {
            if (pingTimer >= 0) {
                vertx.cancelTimer(pingTimer);
                pingTimer = -1;
            }
        }

        void shutdown() {
            context.runOnContext(v -> {
                stopped = true;
                stopPinging();
                if (conn != null) {
                    conn.close();
                }
            });
        }

        private void flush() {
            flushScheduled.set(false);
            if (stopped) {
                return;
            }
            if (conn == null) {
                connectWhenDue();
                return;
            }
            while (!conn.writeQueueFull()) {
                List<Message> batch = nextBatch();
                if (batch.isEmpty()) {
                    return;
                }
                byte[] encoded = MessageCodec.encode(batch);
                if (encoded.length + 1024 > maxFrameBytes) {
                    LOG.log(Level.WARNING, "dropping {0} message(s) to {1}: {2} bytes exceed raftkv.peer-max-frame-bytes {3}",
                            new Object[] {batch.size(), peerId, encoded.length, maxFrameBytes});
                    dropped(batch.size());
                    continue;
                }
                SenderIdentity id = identity.get();
                conn.write(PeerFrames.messages(id.cluster(), id.incarnation(), encoded));
            }
            PeerConnection c = conn;
            c.drainHandler(() -> {
                if (conn == c) {
                    flush();
                }
            });
        }

        private List<Message> nextBatch() {
            List<Message> batch = new ArrayList<>();
            long bytes = 0;
            synchronized (queue) {
                Message m;
                while (bytes < BATCH_BYTES_HINT && (m = queue.pollFirst()) != null) {
                    batch.add(m);
                    bytes += 96;
                    for (var e : m.entries()) {
                        bytes += e.sizeInBytes();
                    }
                }
            }
            return batch;
        }

        private void connectWhenDue() {
            if (connecting || closed) {
                return;
            }
            long wait = nextAttemptNanos - System.nanoTime();
            if (wait > 0) {
                if (!retryTimerSet) {
                    retryTimerSet = true;
                    vertx.setTimer(Math.max(1, wait / 1_000_000), t -> {
                        retryTimerSet = false;
                        flush();
                    });
                }
                return;
            }
            connecting = true;
            PeerConnection.open(vertx, client, tls, selfId, peerId, address, timeout, maxFrameBytes, this::onFrame, this::onClosed)
                    .onComplete(ar -> {
                        connecting = false;
                        if (ar.succeeded() && !stopped) {
                            conn = ar.result();
                            connects.incrementAndGet();
                            failures = 0;
                            startPinging(conn);
                            flush();
                        } else if (ar.succeeded()) {
                            ar.result().close();
                        } else {
                            failed(ar.cause());
                        }
                    });
        }

        private void onClosed() {
            conn = null;
            stopPinging();
            if (!stopped) {
                failed(null);
            }
        }

        private void failed(Throwable cause) {
            failures++;
            long backoff = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS << Math.min(10, failures - 1));
            backoff = backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1);
            nextAttemptNanos = System.nanoTime() + backoff * 1_000_000;
            int cleared;
            synchronized (queue) {
                cleared = queue.size();
                queue.clear(); // a dead peer: drop what waited for it, Raft resends
            }
            if (cleared > 0) {
                dropped(cleared);
            }
            if (cause instanceof PeerConnection.RefusedException r) {
                answers.refused(peerId, r.reason, r.getMessage());
            }
            if (cause != null && (failures == 1 || failures % 100 == 0)) {
                LOG.log(cause instanceof PeerConnection.RefusedException ? Level.WARNING : Level.FINE,
                        "peer {0} at {1}: no connection ({2} failures): {3}", new Object[] {peerId, address, failures, cause.toString()});
            }
            if (!stopped) {
                flush(); // schedules the next attempt
            }
        }

        private void onFrame(byte[] body) {
            try {
                switch (PeerFrames.type(body)) {
                    case ADMITTED -> answers.accepted(peerId);
                    case PONG -> {
                        long rtt = System.nanoTime() - PeerFrames.decodeNonce(body);
                        if (rtt >= 0) {
                            stats.roundTrip(peerId, rtt);
                        }
                    }
                    case REFUSED -> {
                        PeerFrames.Refused r = PeerFrames.decodeRefused(body);
                        answers.refused(peerId, r.reason(), r.detail());
                        if (refusalsLogged++ % 100 == 0) {
                            LOG.log(Level.WARNING, "peer {0} refused this node''s messages: {1} {2}",
                                    new Object[] {peerId, r.reason(), r.detail()});
                        }
                    }
                    default -> LOG.log(Level.FINE, "unexpected {0} frame from {1}", new Object[] {PeerFrames.type(body), peerId});
                }
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "bad frame from " + peerId, e);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Snapshot chunks: a connection per transfer, one chunk in flight.

    @Override
    public ChunkStream openChunks(String peerId) throws Exception {
        URI address = addresses.apply(peerId);
        if (address == null) {
            throw new IllegalStateException("no peer address for " + peerId);
        }
        return ChunkConnection.open(vertx, client, tls, selfId, peerId, address, timeout, maxFrameBytes, identity);
    }
}
