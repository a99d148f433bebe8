package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;

import java.nio.file.Path;
import java.util.Objects;

/** A snapshot file in a {@link SnapshotStore}: its log point, its size in bytes and where it is. */
public record SnapshotInfo(SnapshotMeta meta, long sizeBytes, Path file) {

    public SnapshotInfo {
        Objects.requireNonNull(meta, "meta");
        Objects.requireNonNull(file, "file");
    }

    public long index() {
        return meta.index();
    }

    public long term() {
        return meta.term();
    }
}
