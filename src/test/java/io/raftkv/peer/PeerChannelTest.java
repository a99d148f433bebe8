package io.raftkv.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.snapshot.SnapshotChannel;
import io.raftkv.transport.MessageCodec;
import io.raftkv.transport.PeerAnswers;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemTrustOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** The peer listener and the streaming transport over real sockets, with the certificates make run uses. */
class PeerChannelTest {

    private static final Path CERTS = Path.of("target/test-peer-certs/cluster");
    private static final Path OTHER_CA = Path.of("target/test-peer-certs/other");
    private static final Duration TIMEOUT = Duration.ofSeconds(2);

    private Vertx vertx;
    private final CopyOnWriteArrayList<String> hellos = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<Message> received = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicInteger> rejected = new ConcurrentHashMap<>();
    private final AtomicInteger batches = new AtomicInteger();
    private final CopyOnWriteArrayList<PeerFrames.Chunk> chunks = new CopyOnWriteArrayList<>();

    private final PeerGate gate = new PeerGate() {
        @Override
        public PeerFrames.Refused hello(String certifiedId, PeerFrames.Hello hello) {
            hellos.add(hello.from() + "/" + certifiedId);
            return hello.from().equals("stranger") ? new PeerFrames.Refused("MEMBER", "not a member") : null;
        }

        @Override
        public PeerFrames.Refused messages(String sender, PeerFrames.Messages batch) {
            batches.incrementAndGet();
            if ("wrong-cluster".equals(batch.cluster())) {
                return new PeerFrames.Refused("CLUSTER", "not of this cluster");
            }
            received.addAll(MessageCodec.decode(batch.batch()));
            return null;
        }

        @Override
        public PeerFrames.ChunkReply chunk(String sender, PeerFrames.Chunk chunk) {
            chunks.add(chunk);
            return new PeerFrames.ChunkReply(chunk.id(), chunk.offset() + chunk.data().length == chunk.total() ? 200 : 204, -1, "");
        }

        @Override
        public void rejected(String reason, String detail) {
            rejected.computeIfAbsent(reason, k -> new AtomicInteger()).incrementAndGet();
        }
    };

    @BeforeAll
    static void certificates() throws Exception {
        PeerCerts.make(CERTS, "node1", "node2", "node3");
        PeerCerts.make(OTHER_CA, "node1");
    }

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private PeerListener listener(PeerTls tls, int port, int maxFrame) {
        return new PeerListener(vertx, "127.0.0.1", port, tls, maxFrame, TIMEOUT, gate).start();
    }

    private StreamPeerTransport transport(String self, PeerTls tls, int port) {
        return new StreamPeerTransport(vertx, self, id -> URI.create("raftkv://127.0.0.1:" + port), tls, TIMEOUT, 1 << 20);
    }

    private static Message heartbeat(String from, String to, long term) {
        return Message.builder(MessageType.HEARTBEAT, from, to, term).commit(1).build();
    }

    @Test
    void mutualTlsCarriesManyBatchesOverOneConnection() throws Exception {
        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), 0, 1 << 20);
        StreamPeerTransport t = transport("node1", PeerCerts.tls(CERTS, "node1"), l.port());
        AtomicInteger accepted = new AtomicInteger();
        t.identity(() -> new StreamPeerTransport.SenderIdentity("c1", "i1"), new PeerAnswers() {
            @Override
            public void accepted(String peerId) {
                accepted.incrementAndGet();
            }
        });
        for (int i = 1; i <= 500; i++) {
            t.send(List.of(heartbeat("node1", "node2", i)));
            if (i % 50 == 0) {
                Thread.sleep(5);
            }
        }
        await("500 heartbeats delivered", () -> received.size() == 500);
        assertEquals(List.of("node1/node1"), hellos, "one HELLO, with the certificate's identity");
        assertEquals(1, t.connectionsOpened(), "one connection for every batch");
        for (int i = 0; i < 500; i++) {
            assertEquals(i + 1, received.get(i).term(), "in order");
        }
        await("ADMITTED heard", () -> accepted.get() == 1);
        t.close();
    }

    @Test
    void aCertificateOfAnotherNodeCannotClaimItsId() throws Exception {
        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), 0, 1 << 20);
        // node3's valid certificate, claiming to be node1.
        StreamPeerTransport t = transport("node1", PeerCerts.tls(CERTS, "node3"), l.port());
        CopyOnWriteArrayList<String> refusals = new CopyOnWriteArrayList<>();
        t.identity(() -> new StreamPeerTransport.SenderIdentity("c1", "i1"), new PeerAnswers() {
            @Override
            public void refused(String peerId, String reason, String detail) {
                refusals.add(reason);
            }
        });
        await("refused", () -> {
            t.send(List.of(heartbeat("node1", "node2", 5)));
            return rejected.containsKey("CERTIFICATE");
        });
        await("the sender told why", () -> refusals.contains("CERTIFICATE"));
        assertTrue(received.isEmpty());
        assertTrue(hellos.isEmpty(), "never reaches the gate");
        t.close();
    }

    @Test
    void aCertificateOfAnotherCaFailsTheHandshake() throws Exception {
        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), 0, 1 << 20);
        // A node1 certificate from another CA (which trusts the real CA, so only the listener can object).
        StreamPeerTransport t = transport("node1", PeerCerts.mixed(OTHER_CA, "node1", CERTS), l.port());
        for (int i = 0; i < 20; i++) {
            t.send(List.of(heartbeat("node1", "node2", 5)));
            Thread.sleep(50);
        }
        assertEquals(0, t.connectionsOpened());
        assertTrue(received.isEmpty() && hellos.isEmpty());
        t.close();
    }

    @Test
    void aClientWithoutCertificateFailsTheHandshake() throws Exception {
        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), 0, 1 << 20);
        var client = vertx.createNetClient(new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("")
                .setTrustOptions(new PemTrustOptions().addCertPath(CERTS.resolve("ca.crt").toString())));
        AtomicInteger closed = new AtomicInteger();
        try {
            NetSocket s = client.connect(l.port(), "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
            s.closeHandler(v -> closed.incrementAndGet());
            s.write(Buffer.buffer(PeerFrames.hello("node1", "node2")));
            s.write(Buffer.buffer(PeerFrames.messages("c1", "i1", MessageCodec.encode(List.of(heartbeat("node1", "node2", 9))))));
            await("closed by the listener", () -> closed.get() == 1);
        } catch (Exception e) {
            // TLS 1.3 may report the refused client certificate at connect: the same outcome
            assertNotNull(e);
        }
        assertTrue(received.isEmpty() && hellos.isEmpty());
    }

    @Test
    void theListenerRefusesUnknownSendersAndWhatTheGateRefuses() throws Exception {
        PeerListener l = listener(null, 0, 1 << 20);
        StreamPeerTransport stranger = transport("stranger", null, l.port());
        stranger.send(List.of(heartbeat("stranger", "node2", 5)));
        StreamPeerTransport t = transport("node1", null, l.port());
        CopyOnWriteArrayList<String> refusals = new CopyOnWriteArrayList<>();
        t.identity(() -> new StreamPeerTransport.SenderIdentity("wrong-cluster", "i1"), new PeerAnswers() {
            @Override
            public void refused(String peerId, String reason, String detail) {
                refusals.add(reason);
            }
        });
        await("CLUSTER refusal", () -> {
            t.send(List.of(heartbeat("node1", "node2", 5)));
            return refusals.contains("CLUSTER");
        });
        assertEquals(0, stranger.connectionsOpened());
        assertTrue(received.isEmpty());
        stranger.close();
        t.close();
    }

    @Test
    void aFrameOverTheLimitClosesTheConnectionUnread() throws Exception {
        PeerListener l = listener(null, 0, 4096);
        var client = vertx.createNetClient();
        NetSocket s = client.connect(l.port(), "127.0.0.1").toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        AtomicInteger closed = new AtomicInteger();
        s.closeHandler(v -> closed.incrementAndGet());
        s.write(Buffer.buffer(PeerFrames.hello("node1", "node2")));
        s.write(Buffer.buffer().appendInt(1 << 30).appendByte((byte) PeerFrames.Type.MESSAGES.code));
        await("closed", () -> closed.get() == 1);
        assertEquals(1, rejected.get("FRAME_TOO_LARGE").get());
        assertEquals(0, batches.get());
    }

    @Test
    void noHelloWithinTheTimeoutClosesTheConnection() throws Exception {
        PeerListener l = listener(null, 0, 4096);
        NetSocket s = vertx.createNetClient().connect(l.port(), "127.0.0.1").toCompletionStage().toCompletableFuture()
                .get(5, TimeUnit.SECONDS);
        AtomicInteger closed = new AtomicInteger();
        s.closeHandler(v -> closed.incrementAndGet());
        await("closed", () -> closed.get() == 1);
        assertEquals(1, rejected.get("NO_HELLO").get());
    }

    @Test
    void aConnectedLinkMeasuresItsRoundTripAndMessagesThatCannotBeSentAreCounted() throws Exception {
        java.util.concurrent.ConcurrentLinkedQueue<Long> rtts = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Map<String, java.util.concurrent.atomic.AtomicLong> failed = new ConcurrentHashMap<>();
        PeerStats stats = new PeerStats() {
            @Override
            public void roundTrip(String peer, long nanos) {
                assertEquals("node2", peer);
                rtts.add(nanos);
            }

            @Override
            public void sendFailed(String peer, long messages) {
                failed.computeIfAbsent(peer, p -> new java.util.concurrent.atomic.AtomicLong()).addAndGet(messages);
            }
        };
        int deadPort;
        try (ServerSocket free = new ServerSocket(0)) {
            deadPort = free.getLocalPort();
        }
        StreamPeerTransport dead = transport("node1", PeerCerts.tls(CERTS, "node1"), deadPort);
        dead.stats(stats);
        dead.send(List.of(heartbeat("node1", "node3", 1), heartbeat("node1", "node3", 1)));
        await("the two messages to a peer nobody listens for counted as not sent",
                () -> failed.containsKey("node3") && failed.get("node3").get() == 2);
        assertTrue(rtts.isEmpty(), "no connection, no round trip");
        dead.close();

        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), 0, 1 << 20);
        StreamPeerTransport t = transport("node1", PeerCerts.tls(CERTS, "node1"), l.port());
        t.stats(stats);
        t.send(List.of(heartbeat("node1", "node2", 1)));
        await("two round trips measured", () -> rtts.size() >= 2);
        for (long rtt : rtts) {
            assertTrue(rtt > 0, "a measured round trip: " + rtt + " ns");
        }
        assertFalse(failed.containsKey("node2"), "nothing failed to a peer that listens: " + failed);
        assertEquals(1, t.connectionsOpened(), "pings use the messages' connection");
        t.close();
    }

    @Test
    void renewedCertificatesAreTakenByNewConnectionsWithoutARestart() throws Exception {
        Path rotated = PeerCerts.make(Path.of("target/test-peer-certs/rotated"), "node1", "node2");
        Path live = Files.createDirectories(Path.of("target/test-peer-certs/live-" + System.nanoTime()));
        for (String f : List.of("node2.crt", "node2.key", "ca.crt")) {
            Files.copy(CERTS.resolve(f), live.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        PeerTls listenerTls = PeerCerts.tls(live, "node2");
        PeerListener l = listener(listenerTls, 0, 1 << 20);
        StreamPeerTransport before = transport("node1", PeerCerts.tls(CERTS, "node1"), l.port());
        before.send(List.of(heartbeat("node1", "node2", 1)));
        await("delivered with the first CA", () -> received.stream().anyMatch(m -> m.term() == 1));
        String stamp = listenerTls.stamp();

        // The files are renewed (a new CA: a cert-manager rotation of the whole chain), then reloaded.
        for (String f : List.of("node2.crt", "node2.key", "ca.crt")) {
            Files.copy(rotated.resolve(f), live.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setLastModifiedTime(live.resolve("node2.crt"), java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        assertFalse(stamp.equals(listenerTls.stamp()), "the stamp shows the change");
        assertEquals(null, listenerTls.problemFor("node2"));
        assertTrue(listenerTls.problemFor("node3").contains("names node node2"), "a certificate of another node is refused");
        assertTrue(l.reloadTls(listenerTls.sslOptions()).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS));

        StreamPeerTransport renewed = transport("node1", PeerCerts.tls(rotated, "node1"), l.port());
        renewed.send(List.of(heartbeat("node1", "node2", 2)));
        await("delivered with the renewed CA", () -> received.stream().anyMatch(m -> m.term() == 2));
        StreamPeerTransport stale = transport("node1", PeerCerts.tls(CERTS, "node1"), l.port());
        java.util.concurrent.atomic.AtomicLong notSent = new java.util.concurrent.atomic.AtomicLong();
        stale.stats(new PeerStats() {
            @Override
            public void roundTrip(String peer, long nanos) {
            }

            @Override
            public void sendFailed(String peer, long messages) {
                notSent.addAndGet(messages);
            }
        });
        stale.send(List.of(heartbeat("node1", "node2", 3)));
        await("the old CA's connection attempt failed", () -> notSent.get() > 0);
        assertFalse(stale.connected("node2"), "a certificate of the old CA is no longer trusted for new connections");
        assertTrue(received.stream().noneMatch(m -> m.term() == 3));
        // And the transport side: reloaded to the renewed files, a transport connects to a listener of the new CA.
        assertTrue(stale.reloadTls(PeerCerts.tls(rotated, "node1").sslOptions()).toCompletionStage().toCompletableFuture()
                .get(10, TimeUnit.SECONDS));
        await("delivered once the client side reloaded", () -> {
            stale.send(List.of(heartbeat("node1", "node2", 4)));
            return received.stream().anyMatch(m -> m.term() == 4);
        });
        before.close();
        renewed.close();
        stale.close();
    }

    @Test
    void theTransportReconnectsAfterThePeerComesBack() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        StreamPeerTransport t = transport("node1", PeerCerts.tls(CERTS, "node1"), port);
        // Nobody listens yet: messages are dropped, nothing blocks.
        for (int i = 0; i < 5; i++) {
            t.send(List.of(heartbeat("node1", "node2", 1)));
            Thread.sleep(20);
        }
        assertFalse(t.connected("node2"));
        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), port, 1 << 20);
        await("delivered once the listener is up", () -> {
            t.send(List.of(heartbeat("node1", "node2", 2)));
            return received.stream().anyMatch(m -> m.term() == 2);
        });
        assertEquals(1, t.connectionsOpened());
        l.close();
        await("disconnect noticed", () -> !t.connected("node2"));
        received.clear();
        listener(PeerCerts.tls(CERTS, "node2"), port, 1 << 20);
        await("delivered after the listener came back", () -> {
            t.send(List.of(heartbeat("node1", "node2", 3)));
            return received.stream().anyMatch(m -> m.term() == 3);
        });
        assertEquals(2, t.connectionsOpened());
        t.close();
    }

    @Test
    void snapshotChunksTravelOnAConnectionOfTheirOwn() throws Exception {
        PeerListener l = listener(PeerCerts.tls(CERTS, "node2"), 0, 1 << 20);
        StreamPeerTransport t = transport("node1", PeerCerts.tls(CERTS, "node1"), l.port());
        t.identity(() -> new StreamPeerTransport.SenderIdentity("c1", "i1"), PeerAnswers.NONE);
        try (SnapshotChannel.ChunkStream s = t.openChunks("node2")) {
            assertEquals(204, s.send(3, 10, 2, 0, 8, new byte[] {1, 2, 3, 4}).status());
            assertEquals(200, s.send(3, 10, 2, 4, 8, new byte[] {5, 6, 7, 8}).status());
        }
        assertEquals(2, chunks.size());
        assertEquals("c1", chunks.get(0).cluster());
        assertEquals(4, chunks.get(1).offset());
        // A chunk stream to the wrong node is refused at HELLO: the listener's certificate is node2's.
        StreamPeerTransport misdirected = new StreamPeerTransport(vertx, "node1", id -> URI.create("raftkv://127.0.0.1:" + l.port()),
                PeerCerts.tls(CERTS, "node1"), TIMEOUT, 1 << 20);
        assertThrows(Exception.class, () -> misdirected.openChunks("node3"));
        t.close();
        misdirected.close();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for: " + what);
            }
            Thread.sleep(10);
        }
    }
}
