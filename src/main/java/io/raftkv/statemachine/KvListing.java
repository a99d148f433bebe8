package io.raftkv.statemachine;

import java.util.List;

/** A page of keys in key order; {@code more} says whether further keys matched beyond the limit. */
public record KvListing(List<KvEntry> entries, boolean more) {

    public KvListing {
        entries = List.copyOf(entries);
    }

    /** Key of the last entry, to pass as {@code startAfter} for the next page; null if empty. */
    public String lastKey() {
        return entries.isEmpty() ? null : entries.get(entries.size() - 1).key();
    }
}
