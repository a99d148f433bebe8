package io.raftkv.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.watch.WatchEvent;
import io.raftkv.watch.WatchHub;
import io.raftkv.watch.Watcher;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.ws.rs.sse.OutboundSseEvent;
import jakarta.ws.rs.sse.Sse;
import jakarta.ws.rs.sse.SseEventSink;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Sends each watcher's events to its Server-Sent Events connection: one event at a time, the next once the connection
 * has taken the last (so a slow client fills its watcher's bounded queue, and is cut off, instead of filling memory),
 * on a small pool of threads of its own (the replay of old history reads the log), never on the apply thread. A stream
 * opens with a {@code progress} event whose id is the index before its first (so a client resumes from there even
 * if it saw no change yet), and an idle watch gets a {@code progress} event every {@code raftkv.watch-progress-interval}: the index it has seen everything
 * through, as its id, so a client that reconnects with {@code Last-Event-ID} resumes after it.
 */
@ApplicationScoped
public class WatchStreams {

    @Inject
    ObjectMapper json;

    private final ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "raftkv-watch");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "raftkv-watch-tick");
        t.setDaemon(true);
        return t;
    });
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(WatchStreams.class);
    private final Set<Pump> pumps = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean ticking = new AtomicBoolean();

    /** Starts streaming {@code w} to {@code sink}; returns at once. */
    void stream(Watcher w, boolean values, Duration progressInterval, SseEventSink sink, Sse sse) {
        if (ticking.compareAndSet(false, true)) {
            ticker.scheduleWithFixedDelay(() -> pumps.forEach(Pump::kick), 500, 500, TimeUnit.MILLISECONDS);
        }
        Pump p = new Pump(w, values, progressInterval.toNanos(), sink, sse);
        pumps.add(p);
        w.onWake(p::kick);
        p.kick();
    }

    /** Connections being streamed. */
    int streams() {
        return pumps.size();
    }

    @PreDestroy
    void stop() {
        ticker.shutdownNow();
        pool.shutdown();
    }

    private final class Pump implements Runnable {
        private final Watcher w;
        private final boolean values;
        private final long progressNanos;
        private final SseEventSink sink;
        private final Sse sse;
        private final AtomicBoolean scheduled = new AtomicBoolean();
        private volatile boolean done;
        private long lastSendNanos = System.nanoTime();
        private long lastProgress;
        private boolean greeted;

        Pump(Watcher w, boolean values, long progressNanos, SseEventSink sink, Sse sse) {
            this.w = w;
            this.values = values;
            this.progressNanos = progressNanos;
            this.sink = sink;
            this.sse = sse;
            this.lastProgress = w.start() - 1;
        }

        void kick() {
            if (!done && scheduled.compareAndSet(false, true)) {
                try {
                    pool.execute(this);
                } catch (RuntimeException e) { // the pool is stopping
                    finish();
                }
            }
        }

        @Override
        public void run() {
            try {
                if (sink.isClosed()) {
                    finish();
                    return;
                }
                OutboundSseEvent out = nextOut();
                if (out == null) {
                    scheduled.set(false);
                    if (w.ready()) {
                        kick(); // something arrived after the check: its wake-up found this pump still scheduled
                    }
                    return;
                }
                boolean last = out.getName() != null && out.getName().equals("cut-off");
                lastSendNanos = System.nanoTime();
                sink.send(out).whenComplete((v, err) -> {
                    if (err != null) {
                        LOG.debugf("watch stream on %s closed: sending failed: %s", w.prefix(), err);
                    }
                    if (err != null || last) {
                        finish();
                    } else {
                        pool.execute(this); // still scheduled: go on with the next
                    }
                });
            } catch (RuntimeException e) {
                finish();
            }
        }

        private OutboundSseEvent nextOut() {
            Watcher.End end = w.ended();
            if (end == null) {
                WatchEvent ev = w.next();
                if (ev != null) {
                    return sse.newEventBuilder().name(ev.type()).id(Long.toString(ev.index()))
                            .data(String.class, text(ev.json(values))).build();
                }
                end = w.ended();
            }
            if (end != null) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("reason", end.reason().name().toLowerCase(Locale.ROOT));
                m.put("detail", end.message());
                m.put("resumeFrom", end.resumeFrom());
                if (end.reason() == WatchHub.EndReason.GONE) {
                    m.put("relist", true);
                }
                return sse.newEventBuilder().name("cut-off").data(String.class, text(m)).build();
            }
            if (!greeted) {
                // First, where this stream starts: a client that loses the connection before any event resumes here.
                greeted = true;
                return progress(w.start() - 1);
            }
            long now = System.nanoTime();
            if (now - lastSendNanos < progressNanos) {
                return null;
            }
            long p = w.progress();
            if (p > lastProgress) {
                lastProgress = p;
                return progress(p);
            }
            return sse.newEventBuilder().comment("keep-alive").build();
        }

        private OutboundSseEvent progress(long index) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("index", index);
            return sse.newEventBuilder().name("progress").id(Long.toString(index)).data(String.class, text(m)).build();
        }

        private String text(Map<String, Object> m) {
            try {
                return json.writeValueAsString(m);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        private void finish() {
            if (done) {
                return;
            }
            done = true;
            pumps.remove(this);
            w.close();
            try {
                sink.close();
            } catch (RuntimeException e) {
                // already closed by the client
            }
        }
    }
}
