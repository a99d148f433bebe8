package io.raftkv.storage;

/**
 * A write was not attempted because the data directory's file system is (nearly) full: nothing was written, every
 * file is as it was before. See {@link DiskSpace}.
 */
public class DiskFullException extends StorageException {

    private final long notWrittenFrom;

    public DiskFullException(String message) {
        this(message, 0);
    }

    /** @param notWrittenFrom the first of the log entries this refusal kept from being written or sent (0: none) */
    public DiskFullException(String message, long notWrittenFrom) {
        super(message);
        this.notWrittenFrom = notWrittenFrom;
    }

    /** The first log index that was neither written nor sent because of this refusal, or 0. */
    public long notWrittenFrom() {
        return notWrittenFrom;
    }
}
