package io.raftkv.snapshot;

import io.raftkv.node.NodeSnapshots;
import io.raftkv.raft.Message;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvStateMachine;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A node's snapshots of its {@link KvStateMachine}, kept in a {@link SnapshotStore}: taken in the background
 * ({@link KvSnapshotter}), installed from the store, and streamed between peers in chunks over HTTP.
 * <p>
 * The transfer: the leader POSTs the newest snapshot file to the follower's {@value #PATH} in chunks of at most
 * {@code chunkBytes}, each with the headers below. The follower answers 204 (chunk taken, send the next), 409 with
 * {@value #EXPECTED_OFFSET_HEADER} (a gap or overlap: resume from there, e.g. after a lost chunk or a retry that
 * finds half of it already received), 200 (the last chunk: the file is complete, verified and durable, and the
 * SNAPSHOT message has been handed to the follower's core), or an error (the transfer failed; the leader's core
 * sends it again later). Memory is bounded by one chunk at each end; one thread per transfer, never the loop's.
 */
public final class KvNodeSnapshots implements NodeSnapshots {

    public static final String PATH = "/raft/snapshot";
    public static final String TERM_HEADER = "X-Raftkv-Term";
    public static final String INDEX_HEADER = "X-Raftkv-Snapshot-Index";
    public static final String SNAPSHOT_TERM_HEADER = "X-Raftkv-Snapshot-Term";
    public static final String OFFSET_HEADER = "X-Raftkv-Offset";
    public static final String TOTAL_HEADER = "X-Raftkv-Total";
    public static final String EXPECTED_OFFSET_HEADER = "X-Raftkv-Expected-Offset";
    public static final int DEFAULT_CHUNK_BYTES = 1 << 20;

    private static final Logger LOG = Logger.getLogger(KvNodeSnapshots.class.getName());
    private static final int MAX_RESUMES = 16;

    /** How a received chunk was taken. */
    public enum Received { MORE, COMPLETE, OUT_OF_ORDER }

    /** How a chunk was taken; {@code snapshot} (COMPLETE only) is the received snapshot with its configuration. */
    public record ChunkResult(Received status, long expectedOffset, SnapshotMeta snapshot) {
        public ChunkResult(Received status, long expectedOffset) {
            this(status, expectedOffset, null);
        }
    }

    private final KvStateMachine stateMachine;
    private final SnapshotStore store;
    private final String selfId;
    private final String senderHeader;
    private final Map<String, URI> members;
    private volatile java.util.function.Supplier<Map<String, String>> identityHeaders = Map::of;

    /** Headers that name this node's cluster and incarnation, sent with every chunk. */
    public void identityHeaders(java.util.function.Supplier<Map<String, String>> headers) {
        this.identityHeaders = headers;
    }
    private final Duration timeout;
    private final int chunkBytes;
    private final HttpClient client;
    private final ExecutorService senders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "raftkv-snapshot-send");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong received = new AtomicLong();
    private volatile SnapshotTask current;

    public KvNodeSnapshots(KvStateMachine stateMachine, SnapshotStore store, String selfId, String senderHeader,
                           Map<String, URI> members, Duration timeout, int chunkBytes) {
        this.stateMachine = stateMachine;
        this.store = store;
        this.selfId = selfId;
        this.senderHeader = senderHeader;
        this.members = members;
        this.timeout = timeout;
        this.chunkBytes = chunkBytes;
        this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
    }

    public SnapshotStore store() {
        return store;
    }

    @Override
    public SnapshotMeta latest() {
        // The configuration is in the header only (the file name gives the point): restarts need it.
        return store.latest().map(info -> store.readHeader(info).metaWithConfiguration()).orElse(SnapshotMeta.NONE);
    }

    @Override
    public long latestSizeBytes() {
        return store.latest().map(SnapshotInfo::sizeBytes).orElse(0L);
    }

    @Override
    public CompletableFuture<SnapshotMeta> start(SnapshotMeta at) {
        byte[] configuration = at.configuration() == null ? new byte[0] : at.configuration().encode();
        SnapshotTask task = KvSnapshotter.start(stateMachine, store, at, configuration);
        current = task;
        return task.result().thenApply(SnapshotInfo::meta);
    }

    @Override
    public boolean inProgress() {
        SnapshotTask t = current;
        return t != null && !t.result().isDone();
    }

    @Override
    public void install(SnapshotMeta s) {
        SnapshotInfo info = store.list().stream().filter(i -> i.meta().equals(s)).findFirst()
                .orElseThrow(() -> new IllegalStateException("snapshot " + s + " to install is not in " + store));
        try (SnapshotFileReader reader = store.openReader(info)) {
            stateMachine.install(reader);
        }
    }

    @Override
    public long receivedSnapshot() {
        return received.get();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Leader side

    @Override
    public CompletableFuture<Boolean> send(Message m) {
        return CompletableFuture.supplyAsync(() -> stream(m), senders);
    }

    private boolean stream(Message m) {
        URI target = members.get(m.to());
        Optional<SnapshotInfo> newest = store.latest();
        if (target == null || newest.isEmpty() || newest.get().index() < m.index()) {
            LOG.log(Level.WARNING, "cannot send snapshot {0} to {1}: newest held is {2}",
                    new Object[] {m.index(), m.to(), newest.map(SnapshotInfo::meta).orElse(SnapshotMeta.NONE)});
            return false;
        }
        SnapshotInfo info = newest.get();
        URI uri = target.resolve(PATH);
        try (OutgoingSnapshot out = store.openForSending(info)) {
            long size = out.size();
            long offset = 0;
            int resumes = 0;
            while (true) {
                byte[] chunk = out.read(offset, (int) Math.min(chunkBytes, size - offset));
                HttpRequest.Builder rb = HttpRequest.newBuilder(uri);
                identityHeaders.get().forEach(rb::header);
                HttpRequest request = rb
                        .timeout(timeout.multipliedBy(4))
                        .header("Content-Type", "application/octet-stream")
                        .header(senderHeader, selfId)
                        .header(TERM_HEADER, Long.toString(m.term()))
                        .header(INDEX_HEADER, Long.toString(info.index()))
                        .header(SNAPSHOT_TERM_HEADER, Long.toString(info.term()))
                        .header(OFFSET_HEADER, Long.toString(offset))
                        .header(TOTAL_HEADER, Long.toString(size))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(chunk))
                        .build();
                HttpResponse<String> r = client.send(request, HttpResponse.BodyHandlers.ofString());
                switch (r.statusCode()) {
                    case 200 -> {
                        LOG.log(Level.INFO, "sent snapshot {0} ({1} bytes) to {2}", new Object[] {info.meta(), size, m.to()});
                        return true;
                    }
                    case 204 -> offset += chunk.length;
                    case 409 -> {
                        Optional<String> expected = r.headers().firstValue(EXPECTED_OFFSET_HEADER);
                        if (expected.isEmpty() || ++resumes > MAX_RESUMES) {
                            return false;
                        }
                        offset = Long.parseLong(expected.get());
                    }
                    default -> {
                        LOG.log(Level.WARNING, "{0} refused snapshot {1} at offset {2}: HTTP {3} {4}",
                                new Object[] {m.to(), info.meta(), offset, r.statusCode(), r.body()});
                        return false;
                    }
                }
                if (offset < 0 || offset >= size) {
                    return false; // the follower completes on the last byte: anything else is a confused transfer
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (Exception e) {
            LOG.log(Level.FINE, "snapshot transfer to " + m.to() + " failed", e);
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Follower side

    /**
     * Takes one chunk of the snapshot at {@code meta} ({@code totalBytes} in all) at {@code offset}. COMPLETE when
     * this chunk finished the file and it verified (it is now the store's newest snapshot); a damaged file throws
     * {@link SnapshotCorruptException} and is discarded.
     */
    public ChunkResult receive(SnapshotMeta meta, long totalBytes, long offset, byte[] chunk) {
        SnapshotReceiver r = store.beginReceive(meta, totalBytes);
        try {
            r.accept(offset, chunk);
        } catch (OutOfOrderChunkException e) {
            return new ChunkResult(Received.OUT_OF_ORDER, e.expectedOffset());
        }
        if (r.receivedBytes() < totalBytes) {
            return new ChunkResult(Received.MORE, r.receivedBytes());
        }
        SnapshotInfo info;
        try {
            info = r.finish();
        } catch (RuntimeException e) {
            r.abort();
            throw e;
        }
        received.incrementAndGet();
        return new ChunkResult(Received.COMPLETE, totalBytes, store.readHeader(info).metaWithConfiguration());
    }

    @Override
    public void close() {
        senders.shutdownNow();
        SnapshotTask t = current;
        if (t != null && !t.result().isDone()) {
            t.cancel();
        }
    }
}
