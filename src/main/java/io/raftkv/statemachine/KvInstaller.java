package io.raftkv.statemachine;

import io.raftkv.storage.FileSync;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.StorageException;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The file work of {@link KvStateMachine#install}: building a complete KV store from a snapshot in a temporary file
 * next to {@code kv.db}, and cleaning up what an interrupted install or a closed store leaves.
 * <p>
 * The temporary file {@value #TEMP_NAME} is built without a write-ahead log (MapDB's bulk loader, the "sink", writes
 * B-tree nodes as they fill, so memory stays bounded whatever the snapshot size): a crash while building leaves a
 * partial file that is only ever deleted, never opened. Its name does not start with {@code kv.db}, so neither
 * {@link MapDbFiles#sizeOnDisk} nor the deletion of {@code kv.db.wal.*} can confuse the two.
 */
final class KvInstaller {

    static final String TEMP_NAME = "kv-install.db";

    private KvInstaller() {
    }

    /** Deletes a temporary install file (and any MapDB companion of it) left by an interrupted install. */
    static void deleteLeftovers(Path dataDir) {
        deleteMatching(dataDir, name -> name.equals(TEMP_NAME) || name.startsWith(TEMP_NAME + "."));
    }

    /**
     * Deletes MapDB's write-ahead log files of {@code fileName} ({@code <fileName>.wal.<n>}). Only after the store was
     * closed cleanly: then the file holds everything and the log is redundant. Left in place, an old log would be
     * replayed over the new file at the next open.
     */
    static void deleteWal(Path dataDir, String fileName) {
        String prefix = fileName + ".wal.";
        deleteMatching(dataDir, name -> name.startsWith(prefix) && isDigits(name.substring(prefix.length())));
    }

    private static boolean isDigits(String s) {
        return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }

    private interface NameFilter {
        boolean matches(String name);
    }

    private static void deleteMatching(Path dataDir, NameFilter filter) {
        if (!Files.isDirectory(dataDir)) {
            return;
        }
        try (Stream<Path> files = Files.list(dataDir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (filter.matches(p.getFileName().toString())) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot clean up " + dataDir.toAbsolutePath() + ": " + e, e);
        }
    }

    /**
     * Writes the whole {@code source} into a new store file {@value #TEMP_NAME} in {@code dataDir}, with lastApplied
     * = {@code source.index()}, and forces it to disk. On any failure (a corrupt source included) the temporary file
     * is deleted and the failure rethrown.
     */
    static Path build(Path dataDir, KvStateMachine.InstallSource source) {
        deleteLeftovers(dataDir);
        Path tmp = dataDir.resolve(TEMP_NAME).toAbsolutePath();
        DB db = null;
        try {
            db = DBMaker.fileDB(tmp.toFile()).fileChannelEnable().make();
            HTreeMap<String, Long> meta = db.hashMap(KvStateMachine.META, Serializer.STRING, Serializer.LONG).create();
            DB.TreeMapSink<String, byte[]> sink = db.treeMap(KvStateMachine.DATA, Serializer.STRING,
                    Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().createFromSink();
            long index = source.index();
            long n = 0;
            String previous = null;
            for (KvEntry e = source.next(); e != null; e = source.next()) {
                if (previous != null && e.key().compareTo(previous) <= 0) {
                    throw new StorageException("cannot install: key '" + e.key() + "' comes after '" + previous
                            + "' (keys must be in strictly increasing order)");
                }
                if (e.version() < 1 || e.version() > index || e.createIndex() < 1 || e.createIndex() > e.version()) {
                    throw new StorageException("cannot install: key '" + e.key() + "' has version " + e.version()
                            + " / create index " + e.createIndex() + ", impossible at index " + index);
                }
                sink.put(e.key(), StoredValue.encode(e.version(), e.createIndex(), e.value()));
                previous = e.key();
                n++;
            }
            if (n != source.count()) {
                throw new StorageException("cannot install: the snapshot announced " + source.count()
                        + " keys but holds " + n);
            }
            sink.create();
            ClientSessions sessions;
            try {
                sessions = ClientSessions.decodeAll(source.sessions());
            } catch (IllegalArgumentException e) {
                throw new StorageException("cannot install: the snapshot's client sessions are damaged: " + e.getMessage(), e);
            }
            HTreeMap<String, byte[]> sessionStore = db.hashMap(KvStateMachine.SESSIONS, Serializer.STRING,
                    Serializer.BYTE_ARRAY).create();
            for (String id : sessions.ids()) {
                sessionStore.put(id, sessions.encode(id));
            }
            meta.put(KvStateMachine.K_FORMAT, KvStateMachine.FORMAT);
            meta.put(KvStateMachine.K_LAST_APPLIED, index);
            meta.put(KvStateMachine.K_COUNT, n);
            db.commit();
            db.close();
            db = null;
            FileSync.syncFile(tmp);
            return tmp;
        } catch (RuntimeException | Error e) {
            if (db != null) {
                try {
                    db.close();
                } catch (RuntimeException | Error ignored) {
                    // already failing
                }
            }
            deleteLeftovers(dataDir);
            if (e instanceof StorageException se) {
                throw se;
            }
            throw new StorageException("cannot build " + tmp + " from a snapshot: " + MapDbFiles.describe(e), e);
        }
    }
}
