package io.raftkv.peer;

import io.raftkv.transport.MalformedMessageException;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The peer listener: its own port (raftkv.peer-port), never the client API's; TLS with a client certificate from the
 * cluster CA required (unless peer TLS is off). Every connection starts with HELLO (who is calling, whom it means);
 * then MESSAGES and CHUNK frames, each checked by the {@link PeerGate}. A frame longer than
 * {@code maxFrameBytes}, an undecodable frame, or no HELLO within the timeout closes the connection.
 */
public final class PeerListener implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PeerListener.class.getName());

    private final Vertx vertx;
    private final NetServer server;
    private final PeerGate gate;
    private final int maxFrameBytes;
    private final Duration helloTimeout;
    private final boolean tls;
    private final AtomicInteger connections = new AtomicInteger();

    public PeerListener(Vertx vertx, String host, int port, PeerTls tls, int maxFrameBytes, Duration helloTimeout,
                        PeerGate gate) {
        this.vertx = vertx;
        this.gate = gate;
        this.maxFrameBytes = maxFrameBytes;
        this.helloTimeout = helloTimeout;
        this.tls = tls != null;
        NetServerOptions o = new NetServerOptions().setHost(host).setPort(port).setTcpNoDelay(true)
                .setSslHandshakeTimeout(helloTimeout.toMillis()).setSslHandshakeTimeoutUnit(TimeUnit.MILLISECONDS);
        this.server = vertx.createNetServer(tls == null ? o : tls.server(o));
        server.connectHandler(this::accept);
        server.exceptionHandler(e -> gate.rejected("TLS", String.valueOf(e.getMessage())));
    }

    /** Binds the port; fails (with the cause) if it cannot. */
    public PeerListener start() {
        try {
            server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot listen for peers on port " + configuredPort() + ": " + rootMessage(e), e);
        }
        return this;
    }

    private int configuredPort() {
        return server.actualPort();
    }

    private static String rootMessage(Throwable e) {
        while (e.getCause() != null) {
            e = e.getCause();
        }
        return e.toString();
    }

    /** New connections use the key, certificate and CA in {@code options} (files re-read); open ones keep theirs. */
    public io.vertx.core.Future<Boolean> reloadTls(io.vertx.core.net.SSLOptions options) {
        return server.updateSSLOptions(options, true);
    }

    public int port() {
        return server.actualPort();
    }

    public int openConnections() {
        return connections.get();
    }

    @Override
    public void close() {
        try {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(Level.FINE, "closing the peer listener", e);
        }
    }

    private void accept(NetSocket socket) {
        connections.incrementAndGet();
        Connection c = new Connection(socket);
        socket.closeHandler(v -> {
            connections.decrementAndGet();
            vertx.cancelTimer(c.helloTimer);
        });
        socket.exceptionHandler(e -> socket.close());
        socket.handler(new FrameReader(maxFrameBytes, c::frame, e -> {
            gate.rejected(e instanceof PeerFrames.FrameTooLargeException ? "FRAME_TOO_LARGE" : "MALFORMED", e.getMessage());
            socket.write(Buffer.buffer(PeerFrames.refused("MALFORMED", e.getMessage())));
            socket.close();
        }));
    }

    private final class Connection {
        final NetSocket socket;
        final long helloTimer;
        String sender;
        boolean admitted;

        Connection(NetSocket socket) {
            this.socket = socket;
            this.helloTimer = vertx.setTimer(helloTimeout.toMillis(), t -> {
                if (sender == null) {
                    gate.rejected("NO_HELLO", "no HELLO from " + socket.remoteAddress());
                    socket.close();
                }
            });
        }

        void frame(byte[] body) {
            try {
                PeerFrames.Type type = PeerFrames.type(body);
                if (sender == null) {
                    hello(type, body);
                    return;
                }
                switch (type) {
                    case MESSAGES -> messages(PeerFrames.decodeMessages(body));
                    case CHUNK -> chunk(PeerFrames.decodeChunk(body));
                    case PING -> socket.write(Buffer.buffer(PeerFrames.pong(PeerFrames.decodeNonce(body))));
                    default -> throw new MalformedMessageException("unexpected " + type + " frame");
                }
            } catch (MalformedMessageException e) {
                gate.rejected("MALFORMED", e.getMessage());
                refuse("MALFORMED", e.getMessage());
                socket.close();
            }
        }

        private void hello(PeerFrames.Type type, byte[] body) {
            if (type != PeerFrames.Type.HELLO) {
                throw new MalformedMessageException("a connection starts with HELLO, not " + type);
            }
            PeerFrames.Hello h = PeerFrames.decodeHello(body);
            String certified = tls ? PeerTls.identity(socket) : null;
            PeerFrames.Refused r;
            if (h.version() != PeerFrames.VERSION) {
                r = new PeerFrames.Refused("VERSION", "peer protocol version " + h.version() + ", this node speaks " + PeerFrames.VERSION);
            } else if (tls && !h.from().equals(certified)) {
                r = new PeerFrames.Refused("CERTIFICATE", certified == null
                        ? "the client certificate names no node (a " + PeerTls.SAN_PREFIX + " URI SAN), the connection claims " + h.from()
                        : "the certificate of " + certified + " claims to be " + h.from());
                gate.rejected(r.reason(), r.detail());
            } else {
                r = gate.hello(certified, h);
            }
            if (r != null) {
                refuse(r.reason(), r.detail());
                socket.close();
                return;
            }
            vertx.cancelTimer(helloTimer);
            sender = h.from();
            socket.write(Buffer.buffer(PeerFrames.helloOk()));
        }

        private void messages(PeerFrames.Messages m) {
            PeerFrames.Refused r = gate.messages(sender, m);
            if (r != null) {
                admitted = false;
                refuse(r.reason(), r.detail());
            } else if (!admitted) {
                admitted = true;
                socket.write(Buffer.buffer(PeerFrames.admitted()));
            }
        }

        private void chunk(PeerFrames.Chunk chunk) {
            String from = sender;
            vertx.<PeerFrames.ChunkReply>executeBlocking(() -> gate.chunk(from, chunk), true).onComplete(ar -> {
                PeerFrames.ChunkReply reply = ar.succeeded() ? ar.result()
                        : new PeerFrames.ChunkReply(chunk.id(), 500, 0, "snapshot chunk failed: " + ar.cause());
                socket.write(Buffer.buffer(PeerFrames.chunkReply(reply)));
            });
        }

        private void refuse(String reason, String detail) {
            socket.write(Buffer.buffer(PeerFrames.refused(reason, detail)));
        }
    }
}
