package io.raftkv.statemachine;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.storage.BinaryReader;
import io.raftkv.storage.BinaryWriter;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.StorageException;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The key-value state machine, in the transactional MapDB file {@code <dataDir>/kv.db}.
 * <p>
 * Collection {@code "kv"} is a B-tree from key to stored value (format version byte, version, create index, value
 * bytes); collection {@code "kvMeta"} holds the format marker, lastApplied and the key count. All of them change in
 * MapDB's single open transaction as entries are {@link #apply applied}, and {@link #flush} commits them together:
 * after a crash the store is exactly as of the last flush, lastApplied included.
 * <p>
 * Keys are ordered as Java strings ({@link String#compareTo}, UTF-16 code units; the same as UTF-8 byte order except
 * that characters above U+FFFF sort before U+E000..U+FFFF).
 * <p>
 * Threads: one thread applies and flushes; any thread may read. Applying a batch holds a write lock, so a reader sees
 * the state between two batches, never half of an entry. Reads see applied entries whether flushed or not (they are
 * committed in the Raft log, so a crash re-applies them).
 */
public final class KvStateMachine implements StateMachine {

    public static final String FILE_NAME = "kv.db";

    private static final String DATA = "kv";
    private static final String META = "kvMeta";
    private static final String K_FORMAT = "raftkv-kv-format";
    private static final String K_LAST_APPLIED = "lastApplied";
    private static final String K_COUNT = "count";
    private static final long FORMAT = 1;
    private static final int VALUE_FORMAT = 1;

    private final Path dataDir;
    private final Path file;
    private final DB db;
    private final BTreeMap<String, byte[]> data;
    private final HTreeMap<String, Long> meta;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

    private volatile long lastApplied;
    private volatile boolean closed;
    private volatile boolean failed;
    // Guarded by lock (written under its write lock by the applying thread).
    private long count;
    // Guarded by this (the applying thread).
    private boolean dirty;

    /** Opens (creating it if needed) the state machine of the node whose data directory is {@code dataDir}. */
    public static KvStateMachine open(Path dataDir) {
        return MapDbFiles.openStore(dataDir, FILE_NAME, "KV store", (file, db) -> new KvStateMachine(dataDir, file, db));
    }

    private KvStateMachine(Path dataDir, Path file, DB db) {
        this.dataDir = dataDir;
        this.file = file;
        this.db = db;
        List<String> names = new ArrayList<>();
        db.getAllNames().forEach(names::add);
        if (names.isEmpty()) {
            data = db.treeMap(DATA, Serializer.STRING, Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().create();
            meta = db.hashMap(META, Serializer.STRING, Serializer.LONG).create();
            meta.put(K_FORMAT, FORMAT);
            meta.put(K_LAST_APPLIED, 0L);
            meta.put(K_COUNT, 0L);
            db.commit();
        } else {
            if (!names.contains(DATA) || !names.contains(META)) {
                throw corrupt("not a raftkv KV store (it holds " + names + ")");
            }
            meta = db.hashMap(META, Serializer.STRING, Serializer.LONG).open();
            Long format = meta.get(K_FORMAT);
            if (format == null || format != FORMAT) {
                throw corrupt("not a raftkv KV store or an unsupported format version (format "
                        + (format == null ? "missing" : format) + ")");
            }
            data = db.treeMap(DATA, Serializer.STRING, Serializer.BYTE_ARRAY).open();
        }
        lastApplied = requiredMeta(K_LAST_APPLIED);
        count = requiredMeta(K_COUNT);
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
                        results.add(execute(e, cmd));
                    } else {
                        results.add(ApplyResult.noop(e.index(), e.term()));
                    }
                    applied = e.index();
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

    private ApplyResult execute(Entry e, KvCommand cmd) {
        String key = cmd.key();
        byte[] raw = data.get(key);
        Stored cur = raw == null ? null : decodeStored(key, raw);
        long curVersion = cur == null ? 0 : cur.version;
        if (!holds(cmd.condition(), cur)) {
            return ApplyResult.conflict(e.index(), e.term(), key, curVersion);
        }
        if (cmd.op() == KvCommand.Op.PUT) {
            data.put(key, encodeStored(e.index(), cur == null ? e.index() : cur.createIndex, cmd.value()));
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

    private static boolean holds(KvCommand.Condition condition, Stored cur) {
        if (condition instanceof KvCommand.VersionIs v) {
            return (cur == null ? 0 : cur.version) == v.version();
        }
        if (condition instanceof KvCommand.ValueIs v) {
            return cur != null && Arrays.equals(cur.value, v.value());
        }
        return true;
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
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        lock.writeLock().lock();
        try {
            closed = true;
            try {
                if (dirty && !failed) {
                    db.commit();
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
            db.close(); // with transactions, uncommitted changes are discarded
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
        ensureReadable();
    }

    private StorageException corrupt(String what) {
        return new StorageException("KV store " + file + " is unreadable: " + what + "; the file was left as it is");
    }

    private record Stored(long version, long createIndex, byte[] value) {
        KvEntry toEntry(String key) {
            return new KvEntry(key, value, version, createIndex);
        }
    }

    private static byte[] encodeStored(long version, long createIndex, byte[] value) {
        return new BinaryWriter(value.length + 24)
                .writeByte(VALUE_FORMAT)
                .writeVarLong(version)
                .writeVarLong(createIndex)
                .writeRaw(value)
                .toByteArray();
    }

    private Stored decodeStored(String key, byte[] raw) {
        try {
            BinaryReader r = new BinaryReader(raw);
            int format = r.readByte("value format");
            if (format != VALUE_FORMAT) {
                throw new IllegalArgumentException("unsupported value format " + format);
            }
            long version = r.readVarLong("version", 1, Long.MAX_VALUE);
            long createIndex = r.readVarLong("create index", 1, version);
            return new Stored(version, createIndex, r.readRaw(r.remaining(), "value"));
        } catch (IllegalArgumentException e) {
            throw corrupt("the value of key '" + key + "' is damaged (" + e.getMessage() + ")");
        }
    }
}
