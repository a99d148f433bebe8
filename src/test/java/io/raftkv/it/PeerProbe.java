package io.raftkv.it;

import io.raftkv.peer.PeerFrames;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What an outsider (or a member gone rogue) can do on a node's peer port: connect with some certificate (or none),
 * send raw frames, and see what comes back before the listener closes the connection.
 */
final class PeerProbe implements AutoCloseable {

    /** What became of a try: the frames the listener answered with, and whether it got as far as a connection. */
    record Outcome(boolean connected, List<String> answers, String failure) {
        boolean refusedWith(String reason) {
            return answers.stream().anyMatch(a -> a.equals("REFUSED " + reason));
        }
    }

    private final Vertx vertx = Vertx.vertx();

    /**
     * Connects to 127.0.0.1:{@code port} presenting {@code certDir}/{@code certId}.crt (none if {@code certId} is null),
     * trusting {@code caDir}/ca.crt; sends {@code frames}; waits until the connection closes or 3 s pass.
     */
    Outcome attempt(int port, Path certDir, String certId, Path caDir, byte[]... frames) throws InterruptedException {
        NetClientOptions o = new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("").setConnectTimeout(3000)
                .setTrustOptions(new PemTrustOptions().addCertPath(caDir.resolve("ca.crt").toString()));
        if (certId != null) {
            o.setKeyCertOptions(new PemKeyCertOptions().setCertPath(certDir.resolve(certId + ".crt").toString())
                    .setKeyPath(certDir.resolve(certId + ".key").toString()));
        }
        List<String> answers = new CopyOnWriteArrayList<>();
        CountDownLatch closed = new CountDownLatch(1);
        NetSocket socket;
        try {
            socket = vertx.createNetClient(o).connect(port, "127.0.0.1").toCompletionStage().toCompletableFuture()
                    .get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            return new Outcome(false, answers, String.valueOf(e.getCause() == null ? e : e.getCause()));
        }
        socket.closeHandler(v -> closed.countDown());
        socket.handler(new io.vertx.core.Handler<>() {
            private Buffer pending = Buffer.buffer();

            @Override
            public void handle(Buffer b) {
                pending.appendBuffer(b);
                while (pending.length() >= 4 && pending.length() >= 4 + pending.getInt(0)) {
                    byte[] body = pending.getBytes(4, 4 + pending.getInt(0));
                    pending = pending.getBuffer(4 + body.length, pending.length());
                    PeerFrames.Type t = PeerFrames.type(body);
                    answers.add(t == PeerFrames.Type.REFUSED ? "REFUSED " + PeerFrames.decodeRefused(body).reason() : t.name());
                }
            }
        });
        for (byte[] f : frames) {
            socket.write(Buffer.buffer(f));
        }
        boolean wasClosed = closed.await(3, TimeUnit.SECONDS);
        if (!wasClosed) {
            socket.close();
        }
        return new Outcome(true, answers, wasClosed ? "closed by the listener" : null);
    }

    @Override
    public void close() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
}
