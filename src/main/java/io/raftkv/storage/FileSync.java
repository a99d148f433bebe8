package io.raftkv.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Forcing files and directories to stable storage. A rename or a deletion is only durable once the directory holding
 * it has been forced, so every "write temp, rename" sequence ends with {@link #syncDirectory}.
 */
public final class FileSync {

    private FileSync() {
    }

    /** Forces the content and metadata of {@code file} to disk. */
    public static void syncFile(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            throw new StorageException("cannot sync " + file.toAbsolutePath() + ": " + e, e);
        }
    }

    /**
     * Forces the directory's entries (creations, renames, deletions) to disk. Some platforms cannot open a directory
     * for reading; there the call does nothing (Linux and macOS can).
     */
    public static void syncDirectory(Path dir) {
        FileChannel ch;
        try {
            ch = FileChannel.open(dir, StandardOpenOption.READ);
        } catch (IOException e) {
            return; // e.g. Windows: directories cannot be opened; their metadata is written through
        }
        try (ch) {
            ch.force(true);
        } catch (IOException e) {
            throw new StorageException("cannot sync directory " + dir.toAbsolutePath() + ": " + e, e);
        }
    }
}
