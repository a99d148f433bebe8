package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;

import java.util.Objects;

/**
 * What a snapshot file's header says: the log point, the cluster configuration as of that point (opaque bytes, for
 * membership changes), the client sessions as of that point (opaque here, empty in version 1 files), the number of
 * keys, and the header's size in bytes.
 */
public record SnapshotHeader(SnapshotMeta meta, byte[] configuration, byte[] sessions, long keyCount, long headerBytes) {

    public SnapshotHeader {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(configuration, "configuration");
        Objects.requireNonNull(sessions, "sessions");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotHeader h && h.meta.equals(meta) && java.util.Arrays.equals(h.configuration,
                configuration) && java.util.Arrays.equals(h.sessions, sessions) && h.keyCount == keyCount && h.headerBytes == headerBytes;
    }

    @Override
    public int hashCode() {
        return meta.hashCode() * 31 + Long.hashCode(keyCount);
    }

    @Override
    public String toString() {
        return "SnapshotHeader{" + meta + ", " + keyCount + " keys, configuration " + configuration.length + "B, sessions "
                + sessions.length + "B}";
    }
}
