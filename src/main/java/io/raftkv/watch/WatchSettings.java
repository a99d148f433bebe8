package io.raftkv.watch;

/**
 * Limits of the watch hub.
 *
 * @param historyEvents  recent events kept in memory for watchers that start a little behind (older ones are read
 *                       back from the log)
 * @param historyBytes   ... and at most about this many bytes of them
 * @param bufferEvents   events queued for one watcher that has not sent them yet; one more and it is cut off
 * @param maxWatchers    watchers served at once by this node
 */
public record WatchSettings(int historyEvents, long historyBytes, int bufferEvents, int maxWatchers) {

    public static final WatchSettings DEFAULTS = new WatchSettings(10_000, 64L << 20, 1024, 1024);

    public WatchSettings {
        if (historyEvents < 1 || historyBytes < 1 || bufferEvents < 1 || maxWatchers < 1) {
            throw new IllegalArgumentException("watch limits must be positive: " + historyEvents + ", " + historyBytes
                    + ", " + bufferEvents + ", " + maxWatchers);
        }
    }
}
