package io.raftkv.storage;

/**
 * A store file exists but cannot be read as what it should be: damaged (a failed write, a torn page, bit rot), as
 * opposed to locked, not permitted, or someone else's file. The file is left as it is; whether it can be rebuilt from
 * other files is the caller's decision.
 */
public class CorruptStoreException extends StorageException {

    public CorruptStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
