package io.raftkv.storage;

import org.mapdb.DB;
import org.mapdb.DBException;
import org.mapdb.DBMaker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Opening the MapDB files of a node's data directory, with every failure turned into a {@link StorageException} that
 * names the file. Files are always opened with transactions (a write-ahead log next to the file,
 * {@code <name>.wal.N}): without them a crash can corrupt the store.
 */
public final class MapDbFiles {

    private MapDbFiles() {
    }

    /** Checks (creating it if missing) that {@code dataDir} is a writable directory. */
    public static Path prepareDataDir(Path dataDir) {
        if (dataDir == null) {
            throw new StorageException("no data directory configured");
        }
        if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
            throw new StorageException("data directory " + dataDir.toAbsolutePath() + " is not a directory");
        }
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + dataDir.toAbsolutePath() + ": " + e, e);
        }
        if (!Files.isWritable(dataDir)) {
            throw new StorageException("data directory " + dataDir.toAbsolutePath() + " is not writable");
        }
        return dataDir;
    }

    /**
     * Opens (creating it if missing) {@code dataDir/fileName} as a transactional MapDB store. A file MapDB cannot read
     * is reported, never rewritten.
     */
    public static DB open(Path dataDir, String fileName) {
        prepareDataDir(dataDir);
        Path file = dataDir.resolve(fileName).toAbsolutePath();
        if (Files.exists(file)) {
            if (!Files.isRegularFile(file)) {
                throw new StorageException(file + " is not a regular file");
            }
            if (!Files.isReadable(file) || !Files.isWritable(file)) {
                throw new StorageException(file + " is not readable and writable by this process");
            }
        }
        try {
            // FileChannel I/O: the default RandomAccessFile volume turns every long it writes into single-byte write
            // calls (about 75 write + 7 ftruncate system calls per commit here, against 32 pwrites).
            return DBMaker.fileDB(file.toFile()).fileChannelEnable().transactionEnable().make();
        } catch (DBException.FileLocked e) {
            throw new StorageException("cannot open " + file + ": it is locked, already open in this process or in"
                    + " another one (is another node using data directory " + dataDir.toAbsolutePath() + "?)", e);
        } catch (RuntimeException | AssertionError e) {
            throw new CorruptStoreException("cannot open " + file + ": not a readable MapDB store (" + describe(e)
                    + "); the file was left as it is", e);
        }
    }

    /**
     * Opens an existing {@code dataDir/fileName} read-only, as of its last commit (nothing is written, so this works on
     * a full disk).
     */
    public static DB openReadOnly(Path dataDir, String fileName) {
        Path file = dataDir.resolve(fileName).toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            throw new StorageException(file + " does not exist or is not a regular file");
        }
        try {
            return DBMaker.fileDB(file.toFile()).fileChannelEnable().transactionEnable().readOnly().make();
        } catch (RuntimeException | AssertionError e) {
            throw new StorageException("cannot open " + file + " read-only: " + describe(e), e);
        }
    }

    /** Builds a store object on an opened MapDB file: reads or initializes its collections. */
    @FunctionalInterface
    public interface StoreReader<T> {
        T read(Path file, DB db);
    }

    /**
     * Opens {@code dataDir/fileName} (see {@link #open}) and hands it to {@code reader}. If reading fails, the file is
     * closed and the failure reported as a {@link StorageException} naming {@code what} and the file; the file is
     * left as it is.
     */
    public static <T> T openStore(Path dataDir, String fileName, String what, StoreReader<T> reader) {
        DB db = open(dataDir, fileName);
        Path file = dataDir.resolve(fileName).toAbsolutePath();
        try {
            return reader.read(file, db);
        } catch (StorageException e) {
            closeQuietly(db);
            throw e;
        } catch (RuntimeException | AssertionError e) {
            closeQuietly(db);
            throw new CorruptStoreException("cannot read " + what + " " + file + ": " + describe(e)
                    + "; the file was left as it is", e);
        }
    }

    private static void closeQuietly(DB db) {
        try {
            db.close();
        } catch (RuntimeException | Error ignored) {
            // already failing
        }
    }

    /** Total size of {@code dataDir/fileName} and its write-ahead log files, in bytes. */
    public static long sizeOnDisk(Path dataDir, String fileName) {
        try (Stream<Path> files = Files.list(dataDir)) {
            return files.filter(p -> p.getFileName().toString().startsWith(fileName))
                    .mapToLong(p -> {
                        try {
                            return Files.size(p);
                        } catch (IOException e) {
                            return 0;
                        }
                    })
                    .sum();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The exception's class and message, and its causes', for error messages. */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null && sb.length() < 500; c = c.getCause()) {
            if (sb.length() > 0) {
                sb.append("; caused by ");
            }
            sb.append(c.getClass().getSimpleName());
            if (c.getMessage() != null) {
                sb.append(": ").append(c.getMessage());
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return sb.toString();
    }
}
