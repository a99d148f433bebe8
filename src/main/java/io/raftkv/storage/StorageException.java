package io.raftkv.storage;

/**
 * A node's durable storage cannot be opened, read or written: a corrupt or foreign file, an unusable data directory,
 * a failed write. The message names the file and what is wrong. Stores never "repair" a file they cannot read: the
 * operator decides what to do with it.
 */
public class StorageException extends RuntimeException {

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
