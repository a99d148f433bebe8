package io.raftkv.storage.wal;

import io.raftkv.storage.LogStorageContractTest;
import io.raftkv.storage.RaftLogStore;

import java.nio.file.Path;

/** The log store contract for {@link SegmentedLogStorage}, with small segments so that the tests roll them. */
class SegmentedLogStorageContractTest extends LogStorageContractTest {

    static final long SEGMENT_BYTES = 4096;

    @Override
    protected RaftLogStore open(Path dataDir) {
        return SegmentedLogStorage.open(dataDir, SEGMENT_BYTES);
    }

    @Override
    protected void beforeWrite(RaftLogStore s, Runnable hook) {
        ((SegmentedLogStorage) s).beforeWrite(hook);
    }

    @Override
    protected Path storeFile(Path dataDir) {
        return dataDir.resolve(SegmentedLogStorage.DIR_NAME).toAbsolutePath();
    }
}
