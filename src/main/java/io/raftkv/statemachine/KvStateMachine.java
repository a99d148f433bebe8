package io.raftkv.statemachine;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.storage.BinaryReader;
import io.raftkv.storage.CorruptStoreException;
import io.raftkv.storage.FileSync;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.StorageException;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The key-value state machine, in the transactional MapDB file {@code <dataDir>/kv.db}.
 * <p>
 * Collection {@code "kv"} is a B-tree from key to {@link StoredValue} (format version byte, version, create index,
 * value bytes); collection {@code "kvMeta"} holds the format marker, lastApplied and the key count; collection
 * {@code "kvSessions"} holds the client sessions ({@link DurableSessions}). All of them change in
 * MapDB's single open transaction as entries are {@link #apply applied}, and {@link #flush} commits them together:
 * after a crash the store is exactly as of the last flush, lastApplied included.
 * <p>
 * Keys are ordered as Java strings ({@link String#compareTo}, UTF-16 code units; the same as UTF-8 byte order except
 * that characters above U+FFFF sort before U+E000..U+FFFF).
 * <p>
 * Threads: one thread applies and flushes; any thread may read. Applying a batch holds a write lock, so a reader sees
 * the state between two batches, never half of an entry. Reads see applied entries whether flushed or not (they are
 * committed in the Raft log, so a crash re-applies them).
 * <p>
 * Snapshots: {@link #beginPointInTime} reads the whole state as of one index while applies go on (the snapshot
 * writer, {@code io.raftkv.snapshot.KvSnapshotter}, streams it to a file); {@link #install} replaces the content with
 * a snapshot's, atomically on disk.
 */
public final class KvStateMachine implements StateMachine {

    public static final String FILE_NAME = "kv.db";

    static final String DATA = "kv";
    static final String META = "kvMeta";
    static final String SESSIONS = "kvSessions";
    static final String K_FORMAT = "raftkv-kv-format";
    static final String K_LAST_APPLIED = "lastApplied";
    static final String K_COUNT = "count";
    static final long FORMAT = 1;

    private final Path dataDir;
    private final Path file;
    // Replaced only by install, under the write lock and the monitor.
    private DB db;
    private BTreeMap<String, byte[]> data;
    private HTreeMap<String, Long> meta;
    // Guarded by lock (changed under its write lock by the applying thread).
    private final DurableSessions sessions = new DurableSessions();
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    // The point-in-time read in progress, if any: set and cleared under the write lock (see KvPointInTime).
    private KvPointInTime pointInTime;

    private volatile long lastApplied;
    private volatile boolean closed;
    private volatile boolean failed;
    private final boolean readOnly;
    private volatile long flushedIndex;
    // Guarded by lock (written under its write lock by the applying thread).
    private long count;
    // Guarded by this (the applying thread).
    private boolean dirty;

    /** Whether an earlier write failed (the store then refuses any use until it is reopened). */
    public boolean failed() {
        return failed;
    }

    /**
     * Opens (creating it if needed) the state machine of the node whose data directory is {@code dataDir}. A temporary
     * file left by an interrupted {@link #install} is deleted first.
     */
    public static KvStateMachine open(Path dataDir) {
        MapDbFiles.prepareDataDir(dataDir);
        KvInstaller.deleteLeftovers(dataDir);
        return MapDbFiles.openStore(dataDir, FILE_NAME, "KV store", (file, db) -> new KvStateMachine(dataDir, file, db));
    }

    /**
     * The store as of its last commit, read-only: what a node stopped by a full disk serves stale reads from when its
     * own open store failed. Nothing is written (so it works on a full disk); every write refuses.
     */
    public static KvStateMachine openReadOnly(Path dataDir) {
        DB db = MapDbFiles.openReadOnly(dataDir, FILE_NAME);
        try {
            return new KvStateMachine(dataDir, dataDir.resolve(FILE_NAME).toAbsolutePath(), db, true);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * Deletes {@code kv.db} and its MapDB write-ahead log, so that the next {@link #open} starts empty. The KV store
     * is derived state (the newest snapshot plus the log rebuild it), so this is what a node does with a store it can
     * no longer read, when its snapshot and log can rebuild it (the caller checks).
     */
    public static void discard(Path dataDir) {
        try {
            Files.deleteIfExists(dataDir.resolve(FILE_NAME));
        } catch (IOException e) {
            throw new StorageException("cannot delete " + dataDir.resolve(FILE_NAME).toAbsolutePath() + ": " + e, e);
        }
        KvInstaller.deleteWal(dataDir, FILE_NAME);
        KvInstaller.deleteLeftovers(dataDir);
    }

    private KvStateMachine(Path dataDir, Path file, DB db) {
        this(dataDir, file, db, false);
    }

    private KvStateMachine(Path dataDir, Path file, DB db, boolean readOnly) {
        this.dataDir = dataDir;
        this.file = file;
        this.readOnly = readOnly;
        load(db);
    }

    private void load(DB db) {
        this.db = db;
        List<String> names = new ArrayList<>();
        db.getAllNames().forEach(names::add);
        if (names.isEmpty() && readOnly) {
            throw corrupt("empty: nothing to read");
        }
        if (names.isEmpty()) {
            data = db.treeMap(DATA, Serializer.STRING, Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().create();
            meta = db.hashMap(META, Serializer.STRING, Serializer.LONG).create();
            meta.put(K_FORMAT, FORMAT);
            meta.put(K_LAST_APPLIED, 0L);
            meta.put(K_COUNT, 0L);
            db.commit();
        } else {
            if (!names.contains(DATA) || !names.contains(META)) {
                throw new StorageException("KV store " + file + " is not a raftkv KV store (it holds " + names
                        + "); the file was left as it is");
            }
            meta = db.hashMap(META, Serializer.STRING, Serializer.LONG).open();
            Long format = meta.get(K_FORMAT);
            if (format == null || format != FORMAT) {
                throw new StorageException("KV store " + file + " is not a raftkv KV store or of an unsupported format"
                        + " version (format " + (format == null ? "missing" : format) + "); the file was left as it is");
            }
            data = db.treeMap(DATA, Serializer.STRING, Serializer.BYTE_ARRAY).open();
        }
        lastApplied = requiredMeta(K_LAST_APPLIED);
        flushedIndex = lastApplied;
        count = requiredMeta(K_COUNT);
        sessions.load(db, names.contains(SESSIONS), readOnly, this::corrupt);
    }

    private long requiredMeta(String key) {
        Long v = meta.get(key);
        if (v == null || v < 0) {
            throw corrupt("'" + key + "' is " + (v == null ? "missing" : "negative: " + v));
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------------------- apply

    @Override
    public long lastApplied() {
        return lastApplied;
    }

    @Override
    public synchronized List<ApplyResult> apply(List<Entry> committed) {
        ensureWritable();
        List<ApplyResult> results = new ArrayList<>(committed.size());
        RuntimeException rejected = null;
        lock.writeLock().lock();
        try {
            long applied = lastApplied;
            try {
                for (Entry e : committed) {
                    if (e.index() <= applied) {
                        continue;
                    }
                    if (e.index() != applied + 1) {
                        rejected = new IllegalStateException("gap: entry " + e.index() + " after last applied " + applied);
                        break;
                    }
                    if (e.type() == EntryType.COMMAND) {
                        KvCommand cmd;
                        try {
                            cmd = KvCommand.decode(e.data());
                        } catch (IllegalArgumentException ex) {
                            rejected = new IllegalStateException("cannot apply entry " + e.index() + " (term " + e.term()
                                    + "): " + ex.getMessage(), ex);
                            break;
                        }
                        results.add(cmd.clientId() == null ? execute(e, cmd) : sessions.applyOnce(e, cmd, this::execute));
                    } else {
                        results.add(ApplyResult.noop(e.index(), e.term()));
                    }
                    applied = e.index();
                    sessions.expire(applied);
                }
                if (applied != lastApplied) {
                    meta.put(K_LAST_APPLIED, applied);
                    meta.put(K_COUNT, count);
                    dirty = true;
                }
            } catch (RuntimeException | Error ex) {
                failed = true;
                throw new StorageException("cannot apply to KV store " + file + ": " + MapDbFiles.describe(ex)
                        + "; the state machine refuses further use, restart the node", ex);
            }
            lastApplied = applied;
        } finally {
            lock.writeLock().unlock();
        }
        if (rejected != null) {
            throw rejected;
        }
        return results;
    }

    /** Client sessions kept (at most {@link ClientSessions#MAX_SESSIONS}). */
    public int sessionCount() {
        lock.readLock().lock();
        try {
            return sessions.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Every session in its snapshot form ({@link ClientSessions#encodeAll}); call under the write lock. */
    byte[] sessionsForSnapshot() {
        return sessions.encodeAll();
    }

    private ApplyResult execute(Entry e, KvCommand cmd) {
        String key = cmd.key();
        byte[] raw = data.get(key);
        StoredValue cur = raw == null ? null : decodeStored(key, raw);
        long curVersion = cur == null ? 0 : cur.version();
        if (!StoredValue.holds(cmd.condition(), cur)) {
            return ApplyResult.conflict(e.index(), e.term(), key, curVersion);
        }
        if (pointInTime != null && (cmd.op() == KvCommand.Op.PUT || cur != null)) {
            pointInTime.beforeChange(key, raw);
        }
        if (cmd.op() == KvCommand.Op.PUT) {
            data.put(key, StoredValue.encode(e.index(), cur == null ? e.index() : cur.createIndex(), cmd.value()));
            if (cur == null) {
                count++;
            }
            return ApplyResult.put(e.index(), e.term(), key);
        }
        if (cur != null) {
            data.remove(key);
            count--;
        }
        return ApplyResult.delete(e.index(), e.term(), key, cur != null);
    }

    @Override
    public synchronized void flush() {
        ensureWritable();
        if (!dirty) {
            return;
        }
        try {
            db.commit();
        } catch (RuntimeException | Error e) {
            failed = true;
            throw new StorageException("cannot commit KV store " + file + ": " + MapDbFiles.describe(e)
                    + "; the state machine refuses further use, restart the node", e);
        }
        dirty = false;
        flushedIndex = lastApplied;
    }

    private void rollbackQuietly() {
        try {
            db.rollback();
        } catch (RuntimeException | Error e) {
            // already closed or unusable: closing is all that is left
        }
    }

    /** lastApplied as of the last flush: what kv.db holds durably (a restart replays the log after it). */
    public long flushedIndex() {
        return flushedIndex;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        lock.writeLock().lock();
        try {
            closed = true;
            abandonPointInTime("the KV store was closed");
            try {
                if (dirty && !failed && !readOnly) {
                    db.commit();
                } else if (failed && !readOnly) {
                    rollbackQuietly(); // drop what the failed write left half done
                }
            } finally {
                db.close();
            }
        } catch (RuntimeException e) {
            throw new StorageException("cannot close KV store " + file + ": " + MapDbFiles.describe(e), e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Closes without committing what was applied since the last flush, as a crash would (for tests). */
    synchronized void closeWithoutFlush() {
        if (closed) {
            return;
        }
        lock.writeLock().lock();
        try {
            closed = true;
            abandonPointInTime("the KV store was closed");
            db.close(); // with transactions, uncommitted changes are discarded
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------------- snapshots

    /**
     * Starts a point-in-time read of the whole state as of the current {@link #lastApplied()}, for a snapshot (see
     * {@link KvPointInTime}): applies go on while it is read. One at a time ({@link IllegalStateException} if one is
     * open); the caller must close it.
     */
    public synchronized KvPointInTime beginPointInTime() {
        ensureWritable();
        lock.writeLock().lock();
        try {
            if (pointInTime != null) {
                throw new IllegalStateException("a snapshot of " + file + " is already being read (at index "
                        + pointInTime.index() + ")");
            }
            pointInTime = new KvPointInTime(this, lastApplied, count, sessions.encodeAll());
            return pointInTime;
        } finally {
            lock.writeLock().unlock();
        }
    }

    void endPointInTime(KvPointInTime pit) {
        lock.writeLock().lock();
        try {
            if (pointInTime == pit) {
                pointInTime = null;
            }
            pit.abandon("it was closed");
        } finally {
            lock.writeLock().unlock();
        }
    }

    // Under the write lock.
    private void abandonPointInTime(String why) {
        if (pointInTime != null) {
            pointInTime.abandon(why);
            pointInTime = null;
        }
    }

    /** One batch of {@link KvPointInTime#nextBatch}: see the races discussion there. */
    List<KvEntry> readPointInTime(KvPointInTime pit, int maxKeys) {
        while (true) {
            lock.readLock().lock();
            try {
                ensureReadable();
                if (pit.endedBecause != null) {
                    throw new IllegalStateException("the snapshot read of " + file + " at index " + pit.index()
                            + " has ended: " + pit.endedBecause);
                }
                if (pit.exhausted) {
                    return List.of();
                }
                NavigableMap<String, byte[]> live = pit.cursor == null ? data : data.tailMap(pit.cursor, false);
                List<String> liveKeys = new ArrayList<>(Math.min(maxKeys, 4096));
                List<byte[]> liveValues = new ArrayList<>(Math.min(maxKeys, 4096));
                for (Map.Entry<String, byte[]> e : live.entrySet()) {
                    liveKeys.add(e.getKey());
                    liveValues.add(e.getValue());
                    if (liveKeys.size() == maxKeys) {
                        break;
                    }
                }
                int n = liveKeys.size();
                boolean end = n < maxKeys;
                String last = end ? null : liveKeys.get(n - 1);
                // Only keys after the cursor have pre-images (older ones were dropped and are no longer recorded).
                NavigableMap<String, byte[]> pre = end ? pit.preImages : pit.preImages.headMap(last, true);
                List<KvEntry> out = new ArrayList<>(n + 16);
                java.util.Iterator<Map.Entry<String, byte[]>> preIt = pre.entrySet().iterator();
                Map.Entry<String, byte[]> p = preIt.hasNext() ? preIt.next() : null;
                int i = 0;
                while (i < n || p != null) {
                    int c = i >= n ? 1 : p == null ? -1 : liveKeys.get(i).compareTo(p.getKey());
                    String key;
                    byte[] raw;
                    if (c < 0) { // unchanged since the snapshot index
                        key = liveKeys.get(i);
                        raw = liveValues.get(i);
                        i++;
                    } else { // changed since: its state at the snapshot index is the pre-image
                        key = p.getKey();
                        raw = p.getValue();
                        if (c == 0) {
                            i++;
                        }
                        p = preIt.hasNext() ? preIt.next() : null;
                    }
                    if (raw != KvPointInTime.ABSENT) {
                        out.add(decodeStored(key, raw).toEntry(key));
                    }
                }
                pre.clear();
                if (end) {
                    pit.exhausted = true;
                } else {
                    pit.cursor = last;
                }
                if (!out.isEmpty() || end) {
                    return out;
                }
                // every key of this range was created since the snapshot index: read on
            } finally {
                lock.readLock().unlock();
            }
        }
    }

    /** What {@link #install} reads: the content of a snapshot. */
    public interface InstallSource {

        /** The log index the content stands for: lastApplied after the install. */
        long index();

        /** How many entries {@link #next()} returns. */
        long count();

        /** The client sessions as of {@link #index()} ({@link ClientSessions#encodeAll}; empty: none). */
        default byte[] sessions() {
            return new byte[0];
        }

        /**
         * The next key with its value, version and create index, in strictly increasing key order; null at the end,
         * which a source may only report once it has verified everything it read (a corrupt source throws instead).
         */
        KvEntry next();
    }

    /** The steps of {@link #install}, for crash tests: the hook runs after each. */
    public enum InstallStep {
        /** The new store is complete and synced in its temporary file; kv.db is untouched. */
        NEW_FILE_WRITTEN,
        /** The current kv.db is closed (cleanly: everything it holds is in the file). */
        OLD_CLOSED,
        /** kv.db's write-ahead log files are deleted, and the deletion synced. */
        OLD_WAL_REMOVED,
        /** The temporary file was renamed over kv.db. */
        RENAMED,
        /** The rename is synced. */
        DIRECTORY_SYNCED,
        /** The new kv.db is open and serving. */
        REOPENED
    }

    /** {@link #install(InstallSource, java.util.function.Consumer)} without a hook. */
    public void install(InstallSource source) {
        install(source, step -> {
        });
    }

    /**
     * Replaces the whole content of the store with {@code source}'s, atomically on disk: after a crash at any
     * instant, {@code kv.db} is either the old store or the new one (a leftover temporary file is deleted by the next
     * {@link #open}). Afterwards {@link #lastApplied()} is {@code source.index()}; entries applied but not flushed
     * before are gone (they were older than the snapshot). A snapshot read in progress is ended (it fails).
     * <p>
     * The new file is built first, while reads go on against the old content; only the swap (close, rename, reopen)
     * holds reads off. If building fails (a corrupt snapshot, a full disk) the store is unchanged and usable. A
     * failure after the old store was closed leaves the state machine unusable: restart the node.
     *
     * @param afterStep called after each {@link InstallStep} (tests inject crashes there)
     */
    public synchronized void install(InstallSource source, java.util.function.Consumer<InstallStep> afterStep) {
        ensureWritable();
        lock.writeLock().lock();
        try {
            abandonPointInTime("the content was replaced by a snapshot install");
        } finally {
            lock.writeLock().unlock();
        }
        Path tmp = KvInstaller.build(dataDir, source);
        try {
            afterStep.accept(InstallStep.NEW_FILE_WRITTEN);
        } catch (RuntimeException | Error e) {
            KvInstaller.deleteLeftovers(dataDir);
            throw e;
        }
        lock.writeLock().lock();
        try {
            failed = true; // until the new store is open: nothing may use the closed one
            try {
                db.close(); // unflushed applies are dropped: they are older than the snapshot
            } catch (RuntimeException | Error e) {
                throw new StorageException("cannot close KV store " + file + " to install a snapshot: "
                        + MapDbFiles.describe(e) + "; it was left with its write-ahead log, restart the node", e);
            }
            afterStep.accept(InstallStep.OLD_CLOSED);
            KvInstaller.deleteWal(dataDir, FILE_NAME);
            FileSync.syncDirectory(dataDir);
            afterStep.accept(InstallStep.OLD_WAL_REMOVED);
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new StorageException("cannot rename " + tmp + " over " + file + ": " + e
                        + "; the old store is intact, restart the node", e);
            }
            afterStep.accept(InstallStep.RENAMED);
            FileSync.syncDirectory(dataDir);
            afterStep.accept(InstallStep.DIRECTORY_SYNCED);
            DB fresh = MapDbFiles.open(dataDir, FILE_NAME);
            try {
                load(fresh);
            } catch (RuntimeException | Error e) {
                try {
                    fresh.close();
                } catch (RuntimeException | Error ignored) {
                    // already failing
                }
                throw e;
            }
            if (lastApplied != source.index()) {
                throw corrupt("installed lastApplied " + lastApplied + " is not the snapshot's " + source.index());
            }
            dirty = false;
            failed = false;
            afterStep.accept(InstallStep.REOPENED);
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ---------------------------------------------------------------------------------------------------- reads

    /** The key's value and version, if it exists. */
    public Optional<KvEntry> get(String key) {
        Objects.requireNonNull(key, "key");
        lock.readLock().lock();
        try {
            ensureReadable();
            byte[] raw = data.get(key);
            return raw == null ? Optional.empty() : Optional.of(decodeStored(key, raw).toEntry(key));
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Up to {@code limit} keys starting with {@code prefix} ("" for all), in key order. */
    public KvListing list(String prefix, int limit) {
        return list(prefix, null, limit);
    }

    /**
     * Up to {@code limit} keys starting with {@code prefix}, in key order, after {@code startAfter} if not null (pass
     * the previous page's {@link KvListing#lastKey()} to page through).
     */
    public KvListing list(String prefix, String startAfter, int limit) {
        Objects.requireNonNull(prefix, "prefix");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: " + limit);
        }
        lock.readLock().lock();
        try {
            ensureReadable();
            NavigableMap<String, byte[]> tail = startAfter != null && startAfter.compareTo(prefix) >= 0
                    ? data.tailMap(startAfter, false)
                    : data.tailMap(prefix, true);
            List<KvEntry> out = new ArrayList<>(Math.min(limit, 256));
            boolean more = false;
            for (Map.Entry<String, byte[]> e : tail.entrySet()) {
                String key = e.getKey();
                if (!key.startsWith(prefix)) {
                    break;
                }
                if (out.size() == limit) {
                    more = true;
                    break;
                }
                out.add(decodeStored(key, e.getValue()).toEntry(key));
            }
            return new KvListing(out, more);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Keys read per hold of the read lock by {@link #listKeys}: applies wait at most for one page. */
    static final int LIST_PAGE = 256;

    /**
     * Up to {@code limit} keys starting with {@code prefix}, in key order, with their versions and value sizes; whether
     * there are more. Values are not kept (a listing of large values costs their reading, not their memory), and the
     * read lock is held for one page of {@link #LIST_PAGE} keys at a time, so a long listing never holds applies off:
     * each key is as of some moment during the call (at or after it started), not all keys as of one moment.
     */
    public KvKeyListing listKeys(String prefix, int limit) {
        Objects.requireNonNull(prefix, "prefix");
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1: " + limit);
        }
        List<KvKeyInfo> out = new ArrayList<>(Math.min(limit, LIST_PAGE));
        String after = null;
        while (true) {
            lock.readLock().lock();
            try {
                ensureReadable();
                NavigableMap<String, byte[]> tail = after == null ? data.tailMap(prefix, true) : data.tailMap(after, false);
                int inPage = 0;
                for (Map.Entry<String, byte[]> e : tail.entrySet()) {
                    String key = e.getKey();
                    if (!key.startsWith(prefix)) {
                        return new KvKeyListing(out, false);
                    }
                    if (out.size() == limit) {
                        return new KvKeyListing(out, true);
                    }
                    out.add(keyInfo(key, e.getValue()));
                    after = key;
                    if (++inPage == LIST_PAGE) {
                        break;
                    }
                }
                if (inPage < LIST_PAGE) {
                    return new KvKeyListing(out, false);
                }
            } finally {
                lock.readLock().unlock();
            }
        }
    }

    /** A page of {@link #listKeys}. */
    public record KvKeyListing(List<KvKeyInfo> keys, boolean more) {
    }

    private KvKeyInfo keyInfo(String key, byte[] raw) {
        BinaryReader r = new BinaryReader(raw);
        try {
            return new KvKeyInfo(key, StoredValue.readHeader(r)[0], r.remaining());
        } catch (IllegalArgumentException e) {
            throw damaged(key, e);
        }
    }

    /** Number of keys. */
    public long size() {
        lock.readLock().lock();
        try {
            ensureReadable();
            return count;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Bytes used on disk by the store file and its write-ahead log. */
    public long sizeOnDiskBytes() {
        return MapDbFiles.sizeOnDisk(dataDir, FILE_NAME);
    }

    public Path file() {
        return file;
    }

    @Override
    public String toString() {
        return "KvStateMachine{" + file + ", applied " + lastApplied + "}";
    }

    // ---------------------------------------------------------------------------------------------------- internals

    private void ensureReadable() {
        if (closed) {
            throw new IllegalStateException("KV store " + file + " is closed");
        }
        if (failed) {
            throw new StorageException("KV store " + file + " is unusable after an earlier write failure");
        }
    }

    private void ensureWritable() {
        if (readOnly) {
            throw new IllegalStateException("KV store " + file + " is open read-only");
        }
        ensureReadable();
    }

    private StorageException corrupt(String what) {
        return new CorruptStoreException("KV store " + file + " is unreadable: " + what + "; the file was left as it is", null);
    }

    StoredValue decodeStored(String key, byte[] raw) {
        try {
            return StoredValue.decode(raw);
        } catch (IllegalArgumentException e) {
            throw damaged(key, e);
        }
    }

    private StorageException damaged(String key, IllegalArgumentException e) {
        return corrupt("the value of key '" + key + "' is damaged (" + e.getMessage() + ")");
    }
}
