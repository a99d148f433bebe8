package io.raftkv.peer;

import io.raftkv.transport.MalformedMessageException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.net.URI;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The client end of one peer connection: connected, the listener's certificate checked to name the peer meant (with
 * TLS), HELLO sent and HELLO_OK received. Frames after that go to {@code onFrame}; {@code onClose} runs once when the
 * connection ends for any reason. Runs on the Vert.x context it was opened on.
 */
final class PeerConnection {

    private final NetSocket socket;
    private volatile boolean open = true;
    private volatile int features;

    private PeerConnection(NetSocket socket) {
        this.socket = socket;
    }

    /** A refusal of the connection itself (HELLO answered with REFUSED, or the wrong node answered). */
    static final class RefusedException extends RuntimeException {
        final String reason;

        RefusedException(String reason, String detail) {
            super(reason + ": " + detail);
            this.reason = reason;
        }
    }

    static Future<PeerConnection> open(Vertx vertx, NetClient client, boolean tls, String self, String peer, URI address,
                                       Duration helloTimeout, int maxFrameBytes, Consumer<byte[]> onFrame,
                                       Runnable onClose) {
        return client.connect(address.getPort(), address.getHost()).compose(socket -> {
            if (tls) {
                String id = PeerTls.identity(socket);
                if (!peer.equals(id)) {
                    socket.close();
                    return Future.failedFuture(new RefusedException("CERTIFICATE", address + " presented the certificate of '"
                            + id + "', not of " + peer));
                }
            }
            PeerConnection c = new PeerConnection(socket);
            Promise<PeerConnection> ready = Promise.promise();
            long timer = vertx.setTimer(helloTimeout.toMillis(), t -> {
                if (ready.tryFail("no answer to HELLO from " + peer + " within " + helloTimeout.toMillis() + " ms")) {
                    socket.close();
                }
            });
            socket.handler(new FrameReader(maxFrameBytes, body -> {
                if (!ready.future().isComplete()) {
                    vertx.cancelTimer(timer);
                    try {
                        switch (PeerFrames.type(body)) {
                            case HELLO_OK -> {
                                c.features = PeerFrames.decodeHelloOkFeatures(body);
                                ready.tryComplete(c);
                            }
                            case REFUSED -> {
                                PeerFrames.Refused r = PeerFrames.decodeRefused(body);
                                ready.tryFail(new RefusedException(r.reason(), r.detail()));
                                socket.close();
                            }
                            default -> throw new MalformedMessageException("expected HELLO_OK, got " + PeerFrames.type(body));
                        }
                    } catch (MalformedMessageException e) {
                        ready.tryFail(e);
                        socket.close();
                    }
                    return;
                }
                onFrame.accept(body);
            }, e -> {
                ready.tryFail(e);
                socket.close();
            }));
            socket.exceptionHandler(e -> socket.close());
            socket.closeHandler(v -> {
                c.open = false;
                vertx.cancelTimer(timer);
                if (!ready.tryFail("connection to " + peer + " closed") && ready.future().succeeded()) {
                    onClose.run();
                }
            });
            socket.write(Buffer.buffer(PeerFrames.hello(self, peer)));
            return ready.future();
        });
    }

    /** Whether the listener answers PING (it said so in its HELLO_OK). */
    boolean answersPing() {
        return (features & PeerFrames.FEATURE_PING) != 0;
    }

    boolean isOpen() {
        return open;
    }

    boolean writeQueueFull() {
        return socket.writeQueueFull();
    }

    void drainHandler(Runnable r) {
        socket.drainHandler(v -> r.run());
    }

    void write(byte[] frame) {
        socket.write(Buffer.buffer(frame));
    }

    void close() {
        socket.close();
    }
}
