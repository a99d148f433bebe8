package io.raftkv.watch;

/**
 * A watch asked to start at an index this node can no longer replay: its log was compacted behind it, or this node
 * learned its state from a snapshot (or started) after it. Re-list the keys, then watch from {@link #currentIndex()}
 * + 1; {@link #firstIndex()} is the oldest index a watch can start from here now.
 */
public final class WatchGoneException extends RuntimeException {

    private final long requested;
    private final long firstIndex;
    private final long currentIndex;

    public WatchGoneException(long requested, long firstIndex, long currentIndex) {
        super("index " + requested + " is no longer retained on this node: watches can start from " + firstIndex
                + " (this node has applied through " + currentIndex + "); list the keys again, then watch from "
                + (currentIndex + 1), null, false, false);
        this.requested = requested;
        this.firstIndex = firstIndex;
        this.currentIndex = currentIndex;
    }

    public long requested() {
        return requested;
    }

    public long firstIndex() {
        return firstIndex;
    }

    public long currentIndex() {
        return currentIndex;
    }
}
