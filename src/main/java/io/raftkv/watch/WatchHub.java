package io.raftkv.watch;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.LogStorage;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.KvCommand;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The changes this node applies, for watchers ({@code GET /v1/watch}). Fed by {@link WatchingStateMachine} on the
 * apply thread, which it never blocks: each applied batch becomes events (one per put or delete that took effect, in
 * log order; a failed condition, a session duplicate, an expired session's write and the delete of an absent key make
 * none), kept in a bounded ring of recent history and offered to every live watcher's bounded queue (a watcher whose
 * queue is full is cut off, it does not hold anything up).
 * <p>
 * A watcher may start at any index from which this node knows every outcome and still has the entries: from the
 * first index it applied itself (it knows nothing of what a snapshot or the time before its start covered) and the
 * first entry of its log, or anything the ring still covers. Events older than the ring are read back from the log;
 * for those the hub remembers which command entries made no event (rare: failed conditions, duplicates).
 */
public final class WatchHub {

    /** Why a watcher ended. */
    public enum EndReason {
        /** Its queue was full: it was not reading fast enough. */
        SLOW,
        /** The history it was reading was compacted, or replaced by a snapshot from the leader: re-list. */
        GONE,
        /** The node is stopping. */
        SHUTDOWN
    }

    /** Entries without an event kept at most (beyond that the oldest are dropped and history starts later). */
    static final int MAX_SUPPRESSED = 1 << 20;

    private final WatchSettings settings;
    private final Supplier<? extends LogStorage> log;
    private final Object lock = new Object();
    // Guarded by lock.
    private final ArrayDeque<WatchEvent> ring = new ArrayDeque<>();
    private long ringBytes;
    private long ringFrom = 1;
    private long floor = 1;
    private long last;
    private boolean started;
    private long[] suppressed = new long[64];
    private int suppressedCount;
    private long sincePrune;
    private final List<Watcher> watchers = new ArrayList<>();

    public WatchHub(WatchSettings settings, Supplier<? extends LogStorage> log) {
        this.settings = settings;
        this.log = log;
    }

    public WatchSettings settings() {
        return settings;
    }

    /**
     * The state machine it follows is open at {@code lastApplied}: the first time, history starts after it; later (the
     * node was restarted in this process) entries up to what the hub has seen are not seen twice, and a state machine
     * ahead of it (loaded from a snapshot) starts history afresh.
     */
    public void opened(long lastApplied) {
        synchronized (lock) {
            if (!started) {
                started = true;
                floor = lastApplied + 1;
                ringFrom = floor;
                last = lastApplied;
            } else if (lastApplied > last) {
                reset(lastApplied);
            }
        }
    }

    /** The state machine jumped to {@code index} (a snapshot was installed): older history is gone here. */
    public void reset(long index) {
        List<Watcher> ended;
        synchronized (lock) {
            ring.clear();
            ringBytes = 0;
            suppressedCount = 0;
            floor = index + 1;
            ringFrom = floor;
            last = index;
            started = true;
            ended = new ArrayList<>(watchers);
            watchers.clear();
        }
        for (Watcher w : ended) {
            w.end(EndReason.GONE, "this node replaced its state by a snapshot at index " + index);
        }
    }

    /** The last index applied as far as the hub knows. */
    public long lastIndex() {
        synchronized (lock) {
            return last;
        }
    }

    /** The oldest index a watch can start from now. */
    public long firstIndex() {
        synchronized (lock) {
            return oldest();
        }
    }

    private long oldest() {
        LogStorage l = log.get();
        long logFirst = l == null ? Long.MAX_VALUE : l.firstIndex();
        return Math.max(floor, Math.min(ringFrom, logFirst));
    }

    /** On the apply thread, after the state machine applied {@code entries} with these results. */
    public void applied(List<Entry> entries, List<ApplyResult> results) {
        if (entries.isEmpty()) {
            return;
        }
        Map<Long, ApplyResult> byIndex = new HashMap<>(results.size() * 2);
        for (ApplyResult r : results) {
            byIndex.put(r.index(), r);
        }
        List<Watcher> toWake;
        synchronized (lock) {
            List<WatchEvent> batch = new ArrayList<>();
            for (Entry e : entries) {
                if (e.index() <= last) {
                    continue; // seen before a restart of the node
                }
                last = e.index();
                if (e.type() != EntryType.COMMAND) {
                    continue;
                }
                WatchEvent ev = eventOf(e, byIndex.get(e.index()));
                if (ev == null) {
                    suppress(e.index());
                } else {
                    batch.add(ev);
                    ring.addLast(ev);
                    ringBytes += ev.weight();
                }
            }
            while (!ring.isEmpty() && (ring.size() > settings.historyEvents() || ringBytes > settings.historyBytes())) {
                WatchEvent old = ring.pollFirst();
                ringBytes -= old.weight();
                ringFrom = old.index() + 1;
            }
            if ((sincePrune += entries.size()) >= 4096) {
                sincePrune = 0;
                prune();
            }
            toWake = new ArrayList<>(watchers);
            for (Watcher w : toWake) {
                for (WatchEvent ev : batch) {
                    if (w.matches(ev) && !w.offer(ev)) {
                        watchers.remove(w);
                        break;
                    }
                }
                w.through(last);
            }
        }
        for (Watcher w : toWake) {
            w.wake();
        }
    }

    private static WatchEvent eventOf(Entry e, ApplyResult r) {
        if (r == null || !r.ok() || r.duplicate()) {
            return null;
        }
        KvCommand cmd = KvCommand.decode(e.data());
        if (cmd.op() == KvCommand.Op.PUT) {
            return new WatchEvent(e.index(), true, cmd.key(), e.index(), cmd.value());
        }
        return r.deleted() ? new WatchEvent(e.index(), false, cmd.key(), 0, null) : null;
    }

    /** The event a retained, applied log entry made (for replay from the log), or null if it made none. */
    WatchEvent replay(Entry e) {
        if (e.type() != EntryType.COMMAND) {
            return null;
        }
        synchronized (lock) {
            if (e.index() < floor || e.index() > last) {
                throw new IllegalStateException("entry " + e.index() + " is outside the known history " + floor + ".." + last);
            }
            if (Arrays.binarySearch(suppressed, 0, suppressedCount, e.index()) >= 0) {
                return null;
            }
        }
        KvCommand cmd = KvCommand.decode(e.data());
        return cmd.op() == KvCommand.Op.PUT ? new WatchEvent(e.index(), true, cmd.key(), e.index(), cmd.value())
                : new WatchEvent(e.index(), false, cmd.key(), 0, null);
    }

    private void suppress(long index) {
        if (suppressedCount == suppressed.length) {
            prune();
            if (suppressedCount == suppressed.length) {
                if (suppressed.length >= MAX_SUPPRESSED) {
                    // Too many to remember: forget the older half, and with it the history they belong to.
                    int half = suppressedCount / 2;
                    floor = Math.max(floor, suppressed[half - 1] + 1);
                    System.arraycopy(suppressed, half, suppressed, 0, suppressedCount - half);
                    suppressedCount -= half;
                } else {
                    suppressed = Arrays.copyOf(suppressed, suppressed.length * 2);
                }
            }
        }
        suppressed[suppressedCount++] = index;
    }

    /** Forgets entries without an event that the log no longer holds. */
    private void prune() {
        LogStorage l = log.get();
        if (l == null) {
            return;
        }
        long logFirst = l.firstIndex();
        int i = 0;
        while (i < suppressedCount && suppressed[i] < logFirst) {
            i++;
        }
        if (i > 0) {
            System.arraycopy(suppressed, i, suppressed, 0, suppressedCount - i);
            suppressedCount -= i;
        }
    }

    /**
     * A new watcher of the keys starting with {@code prefix}, from log index {@code fromIndex} (0: from the next
     * change on). Fails with {@link WatchGoneException} if that index is no longer retained here, and with
     * {@link IllegalStateException} when {@link WatchSettings#maxWatchers()} are watching already.
     */
    public Watcher watch(String prefix, long fromIndex) {
        synchronized (lock) {
            if (watchers.size() >= settings.maxWatchers()) {
                throw new IllegalStateException(watchers.size() + " watchers are served by this node already, the"
                        + " limit is " + settings.maxWatchers());
            }
            long start = fromIndex <= 0 ? last + 1 : fromIndex;
            long oldest = oldest();
            if (start < oldest) {
                throw new WatchGoneException(start, oldest, last);
            }
            List<WatchEvent> recent = new ArrayList<>();
            for (WatchEvent ev : ring) {
                if (ev.index() >= start && ev.key().startsWith(prefix)) {
                    recent.add(ev);
                }
            }
            Watcher w = new Watcher(this, prefix, start, Math.min(ringFrom, last + 1), recent, settings.bufferEvents());
            w.through(last);
            watchers.add(w);
            return w;
        }
    }

    /** Entries {@code [lo, hi)} of the log, for a watcher's replay; fails if they were compacted. */
    List<Entry> logEntries(long lo, long hi) {
        LogStorage l = log.get();
        if (l == null || lo < l.firstIndex()) {
            throw new IndexOutOfBoundsException("compacted");
        }
        return l.entries(lo, hi, 1L << 20);
    }

    void remove(Watcher w) {
        synchronized (lock) {
            watchers.remove(w);
        }
    }

    /** Watchers being served. */
    public int watchers() {
        synchronized (lock) {
            return watchers.size();
        }
    }

    /** Ends every watcher (the node is stopping). */
    public void close() {
        List<Watcher> ended;
        synchronized (lock) {
            ended = new ArrayList<>(watchers);
            watchers.clear();
        }
        for (Watcher w : ended) {
            w.end(EndReason.SHUTDOWN, "the node is stopping");
        }
    }
}
