package io.raftkv.storage;

import java.nio.file.Path;

/** The log store contract for {@link MapDbLogStorage}. */
class MapDbLogStorageContractTest extends LogStorageContractTest {

    @Override
    protected RaftLogStore open(Path dataDir) {
        return MapDbLogStorage.open(dataDir);
    }

    @Override
    protected void beforeWrite(RaftLogStore s, Runnable hook) {
        ((MapDbLogStorage) s).beforeCommit(hook);
    }

    @Override
    protected Path storeFile(Path dataDir) {
        return dataDir.resolve(MapDbLogStorage.FILE_NAME);
    }
}
