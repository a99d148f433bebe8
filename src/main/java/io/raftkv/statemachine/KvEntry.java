package io.raftkv.statemachine;

import java.util.Arrays;
import java.util.Objects;

/**
 * A key as stored: its value, its version (log index of the entry that last wrote it) and the index of the entry that
 * created it (since it last did not exist). The value array must not be modified.
 */
public record KvEntry(String key, byte[] value, long version, long createIndex) {

    public KvEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvEntry e && e.version == version && e.createIndex == createIndex && e.key.equals(key)
                && Arrays.equals(e.value, value);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Long.hashCode(version);
    }

    @Override
    public String toString() {
        return "KvEntry{" + key + " v" + version + " created " + createIndex + " " + value.length + "B}";
    }
}
