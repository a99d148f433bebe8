package io.raftkv.transport;

import io.raftkv.raft.Message;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Peer messages over HTTP: {@code POST <peer>/raft/messages} with a {@link MessageCodec} batch. One sender thread and
 * queue per peer, so a slow or dead peer only delays its own messages. While one request is in flight, new messages
 * queue up and leave together in the next batch; Raft responses travel back as the peer's own requests, so many
 * AppendEntries are outstanding at once (pipelining). A full queue drops its oldest messages: Raft retries.
 */
public final class HttpPeerTransport implements PeerTransport {

    public static final String PATH = "/raft/messages";
    public static final String SENDER_HEADER = "X-Raftkv-From";
    /** The sender's cluster id and incarnation (see {@code io.raftkv.membership.Identity}), on every peer request. */
    public static final String CLUSTER_HEADER = "X-Raftkv-Cluster";
    public static final String INCARNATION_HEADER = "X-Raftkv-Incarnation";
    /** On a 403: why the receiver refused the sender (CLUSTER or INCARNATION). */
    public static final String REFUSED_HEADER = "X-Raftkv-Refused";
    private static final Logger LOG = Logger.getLogger(HttpPeerTransport.class.getName());
    private static final int MAX_QUEUED = 20_000;
    private static final int MAX_BATCH_BYTES_HINT = 4 << 20;

    private final String selfId;
    private final Map<String, URI> peerUrls;
    private final Duration requestTimeout;
    private final Map<String, PeerSender> senders = new java.util.concurrent.ConcurrentHashMap<>();
    private final HttpClient client;
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;
    private volatile java.util.function.Supplier<Map<String, String>> identityHeaders = Map::of;
    private volatile PeerAnswers answers = new PeerAnswers() {
    };

    /** What a peer said of this node's messages: accepted, or refused (why), for the runtime's status. */
    public interface PeerAnswers {
        default void accepted(String peerId) {
        }

        default void refused(String peerId, String reason, String detail) {
        }
    }

    /** The identity headers to send with every request, and who hears how peers answered. */
    public void identity(java.util.function.Supplier<Map<String, String>> headers, PeerAnswers answers) {
        this.identityHeaders = headers;
        this.answers = answers;
    }

    /**
     * @param peerUrls how to reach each peer: a live view (see {@code MemberDirectory}); a sender is started for a peer
     *                 the first time a message is addressed to it, so members added later are reached too
     */
    public HttpPeerTransport(String selfId, Map<String, URI> peerUrls, Duration requestTimeout) {
        this.selfId = selfId;
        this.peerUrls = peerUrls;
        this.requestTimeout = requestTimeout;
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(requestTimeout)
                .build();
    }

    @Override
    public void send(List<Message> messages) {
        for (Message m : messages) {
            PeerSender s = sender(m.to());
            if (s != null) {
                s.enqueue(m);
            }
        }
    }

    private PeerSender sender(String peerId) {
        PeerSender s = senders.get(peerId);
        if (s != null && s.uri.equals(target(peerId))) {
            return s;
        }
        synchronized (senders) {
            URI uri = target(peerId);
            s = senders.get(peerId);
            if (closed || uri == null || peerId.equals(selfId)) {
                return null; // no address (yet): dropped, Raft retries
            }
            if (s != null && s.uri.equals(uri)) {
                return s;
            }
            if (s != null) {
                s.shutdown(); // the member's address changed
            }
            s = new PeerSender(peerId, uri, requestTimeout);
            senders.put(peerId, s);
            s.start();
            return s;
        }
    }

    private URI target(String peerId) {
        URI base = peerUrls.get(peerId);
        return base == null ? null : base.resolve(PATH);
    }

    /** Messages dropped because a peer's queue was full. */
    public long droppedMessages() {
        return dropped.get();
    }

    @Override
    public void close() {
        synchronized (senders) {
            closed = true;
            senders.values().forEach(PeerSender::shutdown);
        }
    }

    private final class PeerSender extends Thread {
        private final String peerId;
        private final URI uri;
        private final Duration timeout;
        private final LinkedBlockingDeque<Message> queue = new LinkedBlockingDeque<>();
        private volatile boolean running = true;
        private int failures;

        PeerSender(String peerId, URI uri, Duration timeout) {
            super("raft-send-" + peerId);
            setDaemon(true);
            this.peerId = peerId;
            this.uri = uri;
            this.timeout = timeout;
        }

        void enqueue(Message m) {
            queue.addLast(m);
            while (queue.size() > MAX_QUEUED && queue.pollFirst() != null) {
                dropped.incrementAndGet();
            }
        }

        void shutdown() {
            running = false;
            interrupt();
        }

        @Override
        public void run() {
            List<Message> batch = new ArrayList<>();
            while (running) {
                try {
                    Message first = queue.pollFirst(100, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.clear();
                    batch.add(first);
                    long bytes = approxBytes(first);
                    Message next;
                    while (bytes < MAX_BATCH_BYTES_HINT && (next = queue.pollFirst()) != null) {
                        batch.add(next);
                        bytes += approxBytes(next);
                    }
                    post(batch);
                } catch (InterruptedException e) {
                    if (!running) {
                        return;
                    }
                }
            }
        }

        private void post(List<Message> batch) throws InterruptedException {
            HttpRequest.Builder rb = HttpRequest.newBuilder(uri)
                    .timeout(timeout)
                    .header("Content-Type", "application/octet-stream")
                    .header(SENDER_HEADER, selfId);
            identityHeaders.get().forEach(rb::header);
            HttpRequest request = rb.POST(HttpRequest.BodyPublishers.ofByteArray(MessageCodec.encode(batch))).build();
            try {
                HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() / 100 != 2) {
                    var refused = response.headers().firstValue(REFUSED_HEADER);
                    if (refused.isPresent()) {
                        answers.refused(peerId, refused.get(), response.body());
                    }
                    if (failures++ % 100 == 0) {
                        LOG.log(Level.WARNING, "peer {0} refused {1} message(s): HTTP {2} {3}",
                                new Object[] {peerId, batch.size(), response.statusCode(), response.body()});
                    }
                    return;
                }
                answers.accepted(peerId);
                failures = 0;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                // The peer is down or unreachable: drop the batch (Raft retries) and back off a little, so a dead
                // peer costs neither CPU nor log noise.
                failures++;
                if (failures == 1 || failures % 100 == 0) {
                    LOG.log(Level.FINE, "peer {0} unreachable ({1} failures): {2}", new Object[] {peerId, failures, e.toString()});
                }
                Thread.sleep(Math.min(200, 10L * failures));
                queue.clear();
            }
        }

        private long approxBytes(Message m) {
            long b = 96;
            for (var e : m.entries()) {
                b += e.sizeInBytes();
            }
            return b;
        }
    }
}
