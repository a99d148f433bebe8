package io.raftkv.storage;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;

/** Recognizing a full file system among storage failures, and measuring free space. */
public final class DiskFull {

    private DiskFull() {
    }

    /** Whether {@code t} or one of its causes is the operating system's "no space left on device" (ENOSPC). */
    public static boolean is(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /** Bytes available to this process on the file system of {@code dir}, or -1 if it cannot be told. */
    public static long usableBytes(Path dir) {
        try {
            FileStore store = Files.getFileStore(Files.exists(dir) ? dir : dir.toAbsolutePath().getParent());
            return store.getUsableSpace();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
