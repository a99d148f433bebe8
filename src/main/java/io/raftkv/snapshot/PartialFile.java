package io.raftkv.snapshot;

import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** A snapshot file still being written or received under its temporary name. */
final class PartialFile {

    private PartialFile() {
    }

    /** Closes {@code channel} and deletes {@code tmp}, the partial file of {@code what}. */
    static void discard(FileChannel channel, Path tmp, String what) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // deleting it anyway
        }
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException e) {
            throw new StorageException("cannot delete " + what + " " + tmp + ": " + e, e);
        }
    }
}
