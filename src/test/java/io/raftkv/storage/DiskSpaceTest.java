package io.raftkv.storage;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

class DiskSpaceTest {

    @TempDir
    Path dir;

    @Test
    void stopsBelowTheMinimumAndResumesOnlyAtTwiceIt() throws InterruptedException {
        AtomicLong free = new AtomicLong(10_000_000);
        DiskSpace d = new DiskSpace(dir, 1_000_000);
        d.probe(free::get);
        assertFalse(d.belowMinimum());
        assertTrue(d.hasRoomFor(9_000_000));
        assertFalse(d.hasRoomFor(9_000_001), "a write that would leave less than the minimum does not fit");
        free.set(999_999);
        Thread.sleep(DiskSpace.CACHE_NANOS / 1_000_000 + 1);
        assertTrue(d.belowMinimum());
        free.set(1_500_000);
        assertFalse(d.canResume(), "between the minimum and twice it: not yet (no flapping at the edge)");
        free.set(2_000_000);
        assertTrue(d.canResume());
        DiskSpace none = new DiskSpace(dir, 0);
        none.probe(() -> 100);
        assertFalse(none.canResume(), "with no minimum it still waits for 1 MiB before resuming");
    }

    @Test
    void theRealFileSystemReportsSomeSpace() {
        DiskSpace d = new DiskSpace(dir.resolve("not/yet/created"), 0);
        assertTrue(d.usableBytes() > 0, "measured on the nearest existing parent");
        assertFalse(d.belowMinimum());
        assertThrows(IllegalArgumentException.class, () -> new DiskSpace(dir, -1));
    }

    @Test
    void recognizesOutOfSpaceAmongCauses() {
        IOException enospc = new IOException("No space left on device");
        assertTrue(DiskSpace.isOutOfSpace(new StorageException("cannot append", new UncheckedIOException(enospc))));
        assertTrue(DiskSpace.isOutOfSpace(new DiskFullException("stopped early")));
        assertTrue(DiskSpace.isOutOfSpace(new IOException("Disk quota exceeded")));
        assertFalse(DiskSpace.isOutOfSpace(new StorageException("checksum mismatch", new IOException("Input/output error"))));
        assertFalse(DiskSpace.isOutOfSpace(new RuntimeException((String) null)));
    }
}
