package io.raftkv.snapshot;

import io.raftkv.node.NodeSnapshots;
import io.raftkv.raft.Message;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.statemachine.KvStateMachine;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A node's snapshots of its {@link KvStateMachine}, kept in a {@link SnapshotStore}: taken in the background
 * ({@link KvSnapshotter}), installed from the store, and streamed between peers in chunks over the peer channel.
 * <p>
 * The transfer: the leader sends the newest snapshot file to the follower over a {@link SnapshotChannel} (a peer
 * connection of its own) in chunks of at most {@code chunkBytes}, each naming the leader's term, the snapshot's
 * index and term, the chunk's offset and the file's size. The follower answers 204 (chunk taken, send the next), 409
 * with the expected offset (a gap or overlap: resume from there, e.g. after a lost chunk or a retry that
 * finds half of it already received), 200 (the last chunk: the file is complete, verified and durable, and the
 * SNAPSHOT message has been handed to the follower's core), or an error (the transfer failed; the leader's core
 * sends it again later). Memory is bounded by one chunk at each end; one thread per transfer, never the loop's.
 */
public final class KvNodeSnapshots implements NodeSnapshots {

    /** The start of a 409's detail when the chunk's term is behind the follower's (not a resumable gap). */
    public static final String STALE_TERM = "stale term";
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
    private final SnapshotChannel channel;
    private final int chunkBytes;
    private final ExecutorService senders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "raftkv-snapshot-send");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong received = new AtomicLong();
    private volatile SnapshotTask current;

    public KvNodeSnapshots(KvStateMachine stateMachine, SnapshotStore store, String selfId, SnapshotChannel channel,
                           int chunkBytes) {
        this.stateMachine = stateMachine;
        this.store = store;
        this.selfId = selfId;
        this.channel = channel;
        this.chunkBytes = chunkBytes;
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
        Optional<SnapshotInfo> newest = store.latest();
        if (newest.isEmpty() || newest.get().index() < m.index()) {
            LOG.log(Level.WARNING, "cannot send snapshot {0} to {1}: newest held is {2}",
                    new Object[] {m.index(), m.to(), newest.map(SnapshotInfo::meta).orElse(SnapshotMeta.NONE)});
            return false;
        }
        SnapshotInfo info = newest.get();
        try (OutgoingSnapshot out = store.openForSending(info); SnapshotChannel.ChunkStream chunks = channel.openChunks(m.to())) {
            long size = out.size();
            long offset = 0;
            int resumes = 0;
            while (true) {
                byte[] chunk = out.read(offset, (int) Math.min(chunkBytes, size - offset));
                SnapshotChannel.Reply r = chunks.send(m.term(), info.index(), info.term(), offset, size, chunk);
                switch (r.status()) {
                    case 200 -> {
                        LOG.log(Level.INFO, "sent snapshot {0} ({1} bytes) to {2}", new Object[] {info.meta(), size, m.to()});
                        return true;
                    }
                    case 204 -> offset += chunk.length;
                    case 409 -> {
                        if (r.expectedOffset() < 0 || ++resumes > MAX_RESUMES || r.detail().startsWith(STALE_TERM)) {
                            return false;
                        }
                        offset = r.expectedOffset();
                    }
                    default -> {
                        LOG.log(Level.WARNING, "{0} refused snapshot {1} at offset {2}: {3} {4}",
                                new Object[] {m.to(), info.meta(), offset, r.status(), r.detail()});
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
