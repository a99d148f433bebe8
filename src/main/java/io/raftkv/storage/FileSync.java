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

    /**
     * Replaces {@code file} with {@code text} (UTF-8) so that a crash leaves the old content or the new, never a mix:
     * written to a sibling {@code .tmp}, forced, renamed over the file, and the directory forced.
     */
    public static void writeAtomically(Path file, String text) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            java.nio.file.Files.writeString(tmp, text, java.nio.charset.StandardCharsets.UTF_8);
            syncFile(tmp);
            java.nio.file.Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            syncDirectory(file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new StorageException("cannot write " + file + ": " + e, e);
        }
    }
}
