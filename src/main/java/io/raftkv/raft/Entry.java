package io.raftkv.raft;

import java.util.Arrays;

/**
 * One entry of the replicated log. {@code index} and {@code term} are as in the Raft paper; {@code data} is opaque to
 * the consensus core (the state machine decodes it).
 */
public record Entry(long term, long index, EntryType type, byte[] data) {

    public static final byte[] NO_DATA = new byte[0];

    public Entry {
        if (type == null) {
            throw new IllegalArgumentException("entry type is required");
        }
        if (data == null) {
            data = NO_DATA;
        }
    }

    public static Entry noop(long term, long index) {
        return new Entry(term, index, EntryType.NOOP, NO_DATA);
    }

    /** Approximate encoded size, used to bound messages and batches. */
    public long sizeInBytes() {
        return 17L + data.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.term == term && e.index == index && e.type == type && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(index) * 31 + Long.hashCode(term);
    }

    @Override
    public String toString() {
        return "Entry{" + index + "@" + term + " " + type + " " + data.length + "B}";
    }
}
