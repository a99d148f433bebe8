package io.raftkv.ui;

import org.jboss.logging.Logger;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One browser's connection to the cluster stream. It holds at most two views: the one being written and the newest
 * one not sent yet (a newer view replaces it unsent), so a browser that reads slowly, or not at all, costs a bounded
 * amount of memory and simply sees fewer updates. A write that has not completed within {@code stuckNanos} (the
 * browser is gone, or stopped reading) ends the connection.
 */
final class Viewer {

    /** The connection: an SSE sink at the edge ({@link ClusterStreamResource}), a fake one in tests. */
    interface Connection {
        boolean isClosed();

        /** Sends one {@code event: view} with this data and id; completes once written. */
        CompletionStage<?> send(String json, long id);

        void close();
    }

    private static final Logger LOG = Logger.getLogger(Viewer.class);

    private final Connection sink;
    private final long stuckNanos;
    private final Runnable onClose;
    private final AtomicReference<String> newest = new AtomicReference<>();
    private final AtomicBoolean writing = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long writeStartedNanos;
    private long sequence;

    Viewer(Connection sink, long stuckNanos, Runnable onClose) {
        this.sink = sink;
        this.stuckNanos = stuckNanos;
        this.onClose = onClose;
    }

    /** Queues {@code json} as the next view to send (replacing one not sent yet) and sends it if nothing is being written. */
    void offer(String json) {
        if (closed.get()) {
            return;
        }
        if (sink.isClosed()) {
            close("the connection is closed");
            return;
        }
        if (writing.get() && System.nanoTime() - writeStartedNanos > stuckNanos) {
            close("a view has not been taken for " + stuckNanos / 1_000_000 + " ms");
            return;
        }
        newest.set(json);
        pump();
    }

    private void pump() {
        while (!closed.get() && writing.compareAndSet(false, true)) {
            String json = newest.getAndSet(null);
            if (json == null) {
                writing.set(false);
                if (newest.get() == null) {
                    return; // else: offered after the check, go round again
                }
                continue;
            }
            writeStartedNanos = System.nanoTime();
            try {
                sink.send(json, ++sequence).whenComplete((v, err) -> {
                    writing.set(false);
                    if (err != null) {
                        close("sending failed: " + err);
                    } else if (newest.get() != null) {
                        pump();
                    }
                });
            } catch (RuntimeException e) {
                writing.set(false);
                close("sending failed: " + e);
            }
            return;
        }
    }

    boolean closed() {
        return closed.get();
    }

    /** Ends the connection (idempotent). */
    void close(String why) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.debugf("cluster view stream closed: %s", why);
        newest.set(null);
        try {
            sink.close();
        } catch (RuntimeException e) {
            // already closed by the browser
        }
        onClose.run();
    }
}
