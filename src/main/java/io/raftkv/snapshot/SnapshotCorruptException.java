package io.raftkv.snapshot;

import io.raftkv.storage.StorageException;

import java.nio.file.Path;

/** A snapshot file is damaged or truncated: the message names the file and the byte offset where reading failed. */
public class SnapshotCorruptException extends StorageException {

    private final Path file;
    private final long offset;

    public SnapshotCorruptException(Path file, long offset, String what) {
        super("snapshot " + file + " is corrupt at offset " + offset + ": " + what);
        this.file = file;
        this.offset = offset;
    }

    public Path file() {
        return file;
    }

    public long offset() {
        return offset;
    }
}
