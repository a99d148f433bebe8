package io.raftkv.watch;

import io.raftkv.raft.Entry;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * One watch: the events of the keys under a prefix from a start index, in log order, without gaps or repeats: first
 * the history before it subscribed (read back from the log, then from the hub's ring), then what is applied since,
 * from its own bounded queue. Read by one thread at a time ({@link #next}, non-blocking); the hub calls
 * {@link #wake()}'s listener when there is more, or when it ended.
 */
public final class Watcher {

    /** How a watcher ended, and where to go on: {@code resumeFrom} is the first index it did not deliver. */
    public record End(WatchHub.EndReason reason, String message, long resumeFrom) {
    }

    private static final int LOG_BATCH = 64;

    private final WatchHub hub;
    private final String prefix;
    private final long start;
    private final ArrayBlockingQueue<WatchEvent> queue;
    private final int capacity;
    private final Iterator<WatchEvent> recent;
    private final ArrayDeque<WatchEvent> replayed = new ArrayDeque<>();
    // Only the reading thread: the next log index to replay, and where the replay stops (the ring covers the rest).
    private long logNext;
    private final long logEnd;
    private long delivered;
    private volatile long through;
    private volatile End end;
    private volatile Runnable listener = () -> { };

    Watcher(WatchHub hub, String prefix, long start, long logEnd, List<WatchEvent> recent, int capacity) {
        this.hub = hub;
        this.prefix = prefix;
        this.start = start;
        this.logNext = start;
        this.logEnd = logEnd;
        this.recent = recent.iterator();
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.capacity = capacity;
        this.delivered = start - 1;
    }

    public String prefix() {
        return prefix;
    }

    /** The first index this watcher covers. */
    public long start() {
        return start;
    }

    boolean matches(WatchEvent ev) {
        return ev.index() >= start && ev.key().startsWith(prefix);
    }

    /** Hub, under its lock: queues a live event; false (and the watcher ends as too slow) when its queue is full. */
    boolean offer(WatchEvent ev) {
        if (end != null) {
            return false;
        }
        if (queue.offer(ev)) {
            return true;
        }
        end = new End(WatchHub.EndReason.SLOW, "more than " + capacity + " events were waiting to be sent: the watcher did not read fast enough", -1);
        return false;
    }

    void through(long index) {
        through = index;
    }

    /** Called (on the hub's or another thread, never blocking) whenever there is something new to read. */
    public void onWake(Runnable r) {
        listener = r == null ? () -> { } : r;
    }

    void wake() {
        listener.run();
    }

    void end(WatchHub.EndReason reason, String message) {
        if (end == null) {
            end = new End(reason, message, -1);
        }
        wake();
    }

    /**
     * The next event, or null when there is none now (or the watcher ended: see {@link #ended()}). May read the log
     * (the replay of old history), so call it off event-loop threads.
     */
    public WatchEvent next() {
        if (end != null) {
            return null;
        }
        WatchEvent ev = nextUnchecked();
        if (ev != null) {
            delivered = ev.index();
        }
        return ev;
    }

    private WatchEvent nextUnchecked() {
        while (replayed.isEmpty() && logNext < logEnd) {
            long hi = Math.min(logEnd, logNext + LOG_BATCH);
            List<Entry> batch;
            try {
                batch = hub.logEntries(logNext, hi);
            } catch (IndexOutOfBoundsException | IllegalStateException e) {
                end(WatchHub.EndReason.GONE, "the log was compacted past index " + logNext + " during the replay");
                hub.remove(this);
                return null;
            }
            if (batch.isEmpty()) {
                end(WatchHub.EndReason.GONE, "the log no longer holds index " + logNext);
                hub.remove(this);
                return null;
            }
            for (Entry e : batch) {
                WatchEvent ev = hub.replay(e);
                if (ev != null && ev.key().startsWith(prefix)) {
                    replayed.add(ev);
                }
                logNext = e.index() + 1;
            }
        }
        if (!replayed.isEmpty()) {
            return replayed.poll();
        }
        if (recent.hasNext()) {
            return recent.next();
        }
        return queue.poll();
    }

    /** Whether {@link #next} or {@link #ended} has something now (for the reading thread). */
    public boolean ready() {
        return end != null || !replayed.isEmpty() || logNext < logEnd || recent.hasNext() || !queue.isEmpty();
    }

    /**
     * The index through which this watcher has delivered everything (no event it covers at or below it is still to
     * come), when it has nothing queued; -1 while it is still catching up or has events waiting. What an idle watcher
     * reports as progress, so a client can resume after it.
     */
    public long progress() {
        long t = through;
        if (end != null || replayed.size() > 0 || logNext < logEnd || recent.hasNext() || !queue.isEmpty()) {
            return -1;
        }
        return Math.max(t, delivered);
    }

    /** Why it ended, with the index to resume from; null while it runs. */
    public End ended() {
        End e = end;
        return e == null ? null : new End(e.reason(), e.message(), delivered + 1);
    }

    /** The client went away: stop queueing for it. */
    public void close() {
        hub.remove(this);
        if (end == null) {
            end = new End(WatchHub.EndReason.SHUTDOWN, "closed", -1);
        }
    }
}
