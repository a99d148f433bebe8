package io.raftkv.snapshot;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.SnapshotMeta;

import java.util.Objects;

/**
 * What a snapshot file's header says: the log point, the cluster configuration as of that point (opaque bytes here;
 * see {@link #raftConfiguration()}), the client sessions as of that point (opaque here, empty before version 3), the
 * number of keys, the header's size in bytes, and the file's format version.
 */
public record SnapshotHeader(SnapshotMeta meta, byte[] configuration, byte[] sessions, long keyCount, long headerBytes,
                             int formatVersion) {

    public SnapshotHeader {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(configuration, "configuration");
        Objects.requireNonNull(sessions, "sessions");
    }

    /**
     * The Raft configuration the configuration bytes encode, or null if they say nothing (empty, or a version 1
     * file). Throws IllegalArgumentException if they are not a configuration encoding.
     */
    public Configuration raftConfiguration() {
        if (formatVersion < SnapshotFormat.VERSION_WITH_CONFIGURATION || configuration.length == 0) {
            return null;
        }
        return Configuration.decode(configuration);
    }

    /** {@link #meta()} with the configuration the header records (see {@link #raftConfiguration()}). */
    public SnapshotMeta metaWithConfiguration() {
        return meta.withConfiguration(raftConfiguration());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SnapshotHeader h && h.meta.equals(meta) && java.util.Arrays.equals(h.configuration,
                configuration) && java.util.Arrays.equals(h.sessions, sessions) && h.keyCount == keyCount
                && h.headerBytes == headerBytes && h.formatVersion == formatVersion;
    }

    @Override
    public int hashCode() {
        return meta.hashCode() * 31 + Long.hashCode(keyCount);
    }

    @Override
    public String toString() {
        return "SnapshotHeader{" + meta + ", " + keyCount + " keys, configuration " + configuration.length
                + "B, sessions " + sessions.length + "B, format " + formatVersion + "}";
    }
}
