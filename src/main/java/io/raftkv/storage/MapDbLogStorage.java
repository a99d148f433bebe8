package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A node's Raft log and hard state in one transactional MapDB file, {@code <dataDir>/raft-log.db}.
 * <p>
 * Layout: collection {@code "entries"} is a B-tree from the index of the first entry of a run of consecutive entries
 * to that run, encoded by {@link EntryCodec} (one record per {@link #save} call, split at
 * {@value #MAX_ENTRIES_PER_RECORD} entries or about {@value #MAX_BYTES_PER_RECORD} bytes: far fewer MapDB records than
 * one per entry). Collection {@code "meta"} holds the format marker, the {@link HardState} and the log start (first
 * index and the term of the entry before it, which compaction moves).
 * <p>
 * Every {@link #save} and {@link #compact} is one MapDB transaction and one {@code commit()}: durable and atomic on
 * return. Terms of all held indexes, the hard state and the run boundaries are kept in memory; recently written or
 * read runs are cached decoded, so the leader's replication reads seldom touch the file.
 * <p>
 * Threads: {@code save}, {@code compact} and the reads are meant for the node's Raft thread but are all synchronized;
 * {@link #firstIndex()}, {@link #lastIndex()} and {@link #hardState()} read volatile fields and never wait for a
 * write in progress (for status endpoints).
 * <p>
 * A file that cannot be read, belongs to something else or whose entries are not contiguous makes {@link #open} throw a
 * {@link StorageException} naming the file; the file is never rewritten. A failed write makes the storage refuse
 * further writes (fail-stop): the node must restart and recover from what was committed.
 */
public final class MapDbLogStorage implements RaftLogStore {

    public static final String FILE_NAME = "raft-log.db";

    static final int MAX_ENTRIES_PER_RECORD = 256;
    static final int MAX_BYTES_PER_RECORD = 1 << 20;

    private static final String RECORDS = "entries";
    private static final String META = "meta";
    private static final String K_FORMAT = "format";
    private static final String K_HARD_STATE = "hardState";
    private static final String K_LOG_START = "logStart";
    private static final String FORMAT = "raftkv-raft-log 1";
    private static final int META_VERSION = 1;

    private final Path dataDir;
    private final Path file;
    private final DB db;
    private final BTreeMap<Long, byte[]> records;
    private final HTreeMap<String, byte[]> meta;

    // Guarded by this. terms[i] is the term of index (firstIndex - 1 + i); termCount = lastIndex - firstIndex + 2.
    private long[] terms = new long[1024];
    private int termCount;
    // Guarded by this. First index of each stored run, ascending; a run ends where the next begins (last at lastIndex).
    private long[] runStarts = new long[64];
    private int runCount;
    // Guarded by this. Decoded runs by first index, least recently used first.
    private final EntryRunCache<Long> cache = new EntryRunCache<>();
    private boolean failed;
    private boolean closed;
    private Runnable beforeCommit;

    private volatile long firstIndex = 1;
    private volatile long lastIndex;
    private volatile HardState hardState = HardState.EMPTY;

    /** Opens (creating it if needed) the log of the node whose data directory is {@code dataDir}. */
    public static MapDbLogStorage open(Path dataDir) {
        return MapDbFiles.openStore(dataDir, FILE_NAME, "raft log", (file, db) -> new MapDbLogStorage(dataDir, file, db));
    }

    private MapDbLogStorage(Path dataDir, Path file, DB db) {
        this.dataDir = dataDir;
        this.file = file;
        this.db = db;
        List<String> names = new ArrayList<>();
        db.getAllNames().forEach(names::add);
        if (names.isEmpty()) {
            // A new file (or one whose creation never committed anything): initialize it.
            records = db.treeMap(RECORDS, Serializer.LONG, Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().create();
            meta = db.hashMap(META, Serializer.STRING, Serializer.BYTE_ARRAY).create();
            meta.put(K_FORMAT, FORMAT.getBytes(StandardCharsets.UTF_8));
            meta.put(K_LOG_START, encodeLogStart(1, 0));
            meta.put(K_HARD_STATE, encodeHardState(HardState.EMPTY));
            db.commit();
        } else {
            if (!names.contains(META) || !names.contains(RECORDS)) {
                throw corrupt("not a raftkv raft log (it holds " + names + ")");
            }
            meta = db.hashMap(META, Serializer.STRING, Serializer.BYTE_ARRAY).open();
            byte[] format = meta.get(K_FORMAT);
            if (format == null || !FORMAT.equals(new String(format, StandardCharsets.UTF_8))) {
                throw corrupt("not a raftkv raft log or an unsupported format version (format marker "
                        + (format == null ? "missing" : "'" + new String(format, StandardCharsets.UTF_8) + "'") + ")");
            }
            records = db.treeMap(RECORDS, Serializer.LONG, Serializer.BYTE_ARRAY).open();
        }
        load();
    }

    private void load() {
        hardState = decodeHardState(required(K_HARD_STATE));
        long[] start = decodeLogStart(required(K_LOG_START));
        long first = start[0];
        long prevTerm = start[1];
        terms[0] = prevTerm;
        termCount = 1;
        long lastTerm = prevTerm;
        long expect = -1;
        for (Map.Entry<Long, byte[]> rec : records.entrySet()) {
            long key = rec.getKey();
            Entry[] run = decodeRun(key, rec.getValue());
            long end = key + run.length; // exclusive
            if (expect < 0) {
                if (key > first || end <= first) {
                    throw corrupt("the log starts at index " + first + " but its first record holds entries " + key
                            + ".." + (end - 1));
                }
            } else if (key != expect) {
                throw corrupt("entries are not contiguous: a record starts at index " + key + " after entry "
                        + (expect - 1));
            }
            for (Entry e : run) {
                if (e.index() == first - 1 && e.term() != prevTerm) {
                    throw corrupt("entry " + e.index() + " has term " + e.term() + " but the log start says " + prevTerm);
                }
                if (e.index() >= first) {
                    if (e.term() < lastTerm) {
                        throw corrupt("entry " + e.index() + " has term " + e.term() + ", lower than " + lastTerm
                                + " before it");
                    }
                    lastTerm = e.term();
                    appendTerm(e.term());
                }
            }
            addRun(key);
            cache.put(key, run);
            expect = end;
        }
        firstIndex = first;
        lastIndex = first - 2 + termCount;
    }

    private byte[] required(String key) {
        byte[] v = meta.get(key);
        if (v == null) {
            throw corrupt("'" + key + "' is missing");
        }
        return v;
    }

    // ---------------------------------------------------------------------------------------------------- reads

    @Override
    public HardState hardState() {
        return hardState;
    }

    @Override
    public long firstIndex() {
        return firstIndex;
    }

    @Override
    public long lastIndex() {
        return lastIndex;
    }

    @Override
    public synchronized long term(long index) {
        long base = firstIndex - 1;
        if (index < base || index > lastIndex) {
            throw new IndexOutOfBoundsException("no term for index " + index + ": the log holds " + firstIndex + ".."
                    + lastIndex);
        }
        return terms[(int) (index - base)];
    }

    @Override
    public synchronized List<Entry> entries(long lo, long hi, long maxBytes) {
        ensureOpen();
        if (lo < firstIndex || hi > lastIndex + 1 || lo > hi) {
            throw new IndexOutOfBoundsException("entries [" + lo + "," + hi + ") of " + firstIndex + ".." + lastIndex);
        }
        if (lo == hi) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>((int) Math.min(hi - lo, 256));
        long bytes = 0;
        long next = lo;
        for (int r = floorRun(lo); r < runCount && next < hi; r++) {
            long key = runStarts[r];
            Entry[] run = run(key);
            for (int i = (int) (next - key); i < run.length && next < hi; i++) {
                Entry e = run[i];
                bytes += e.sizeInBytes();
                if (!out.isEmpty() && bytes > maxBytes) {
                    return out;
                }
                out.add(e);
                next++;
            }
        }
        if (out.isEmpty()) {
            throw new StorageException("raft log " + file + " has no entry " + lo + " although it should hold "
                    + firstIndex + ".." + lastIndex);
        }
        return out;
    }

    /** Bytes used on disk by the log file and its write-ahead log. */
    @Override
    public long sizeOnDiskBytes() {
        return MapDbFiles.sizeOnDisk(dataDir, FILE_NAME);
    }

    public Path file() {
        return file;
    }

    // ---------------------------------------------------------------------------------------------------- writes

    /**
     * Persists {@code hs} (if not null and different from the stored one) and {@code entries} (replacing any entries
     * at or after the first new index) in one transaction, durable on return. Refuses, with an
     * {@link IllegalStateException} and nothing written, entries that leave a gap, start before the first index,
     * decrease in term, or would remove or change an entry at or below the stored commit index.
     */
    @Override
    public synchronized void save(HardState hs, List<Entry> entries) {
        ensureWritable();
        List<Entry> list = entries == null ? List.of() : entries;
        boolean hsChanged = hs != null && !hs.sameAs(hardState);
        if (list.isEmpty() && !hsChanged) {
            return;
        }
        long first = list.isEmpty() ? lastIndex + 1 : checkAppend(list);
        int keepRuns = runCount;
        Entry[] kept = null;
        List<Integer> cuts = new ArrayList<>();
        try {
            if (first <= lastIndex) {
                // Conflict truncation: drop every run from the one holding `first`, keeping that run's prefix.
                int r = floorRun(first);
                long key = runStarts[r];
                if (key < first && first > firstIndex) {
                    kept = Arrays.copyOfRange(run(key), 0, (int) (first - key));
                    records.put(key, EntryCodec.encode(Arrays.asList(kept)));
                    keepRuns = r + 1;
                } else {
                    keepRuns = r;
                }
                for (int j = r; j < runCount; j++) {
                    if (j >= keepRuns) {
                        records.remove(runStarts[j]);
                    }
                }
            }
            int from = 0;
            while (from < list.size()) {
                int to = from;
                long bytes = 0;
                while (to < list.size() && to - from < MAX_ENTRIES_PER_RECORD
                        && (to == from || bytes + list.get(to).sizeInBytes() <= MAX_BYTES_PER_RECORD)) {
                    bytes += list.get(to).sizeInBytes();
                    to++;
                }
                records.put(list.get(from).index(), EntryCodec.encode(list, from, to));
                cuts.add(from);
                from = to;
            }
            if (hsChanged) {
                meta.put(K_HARD_STATE, encodeHardState(hs));
            }
            commit();
        } catch (RuntimeException | Error e) {
            throw writeFailed(e);
        }
        // Durable: publish to memory.
        if (first <= lastIndex) {
            for (int j = keepRuns - (kept == null ? 0 : 1); j < runCount; j++) {
                cache.remove(runStarts[j]);
            }
            runCount = keepRuns;
            if (kept != null) {
                cache.put(runStarts[keepRuns - 1], kept);
            }
        }
        if (!list.isEmpty()) {
            termCount = (int) (first - firstIndex + 1);
            for (Entry e : list) {
                appendTerm(e.term());
            }
            for (int c = 0; c < cuts.size(); c++) {
                int from = cuts.get(c);
                int to = c + 1 < cuts.size() ? cuts.get(c + 1) : list.size();
                long key = list.get(from).index();
                addRun(key);
                cache.put(key, list.subList(from, to).toArray(new Entry[0]));
            }
            lastIndex = list.get(list.size() - 1).index();
        }
        if (hsChanged) {
            hardState = hs;
        }
    }

    /** Validates an append; returns the first new index. */
    private long checkAppend(List<Entry> list) {
        return AppendRules.check(list, firstIndex, lastIndex, hardState.commit(), this::term);
    }

    /**
     * Discards the entries up to {@code throughIndex} (which a snapshot now covers): the log then starts at
     * {@code throughIndex + 1} and remembers the discarded entry's term. One transaction, durable on return. The
     * caller must only compact entries the state machine has applied and made durable.
     */
    @Override
    public synchronized void compact(long throughIndex) {
        ensureWritable();
        long base = firstIndex - 1;
        if (throughIndex < base || throughIndex > lastIndex) {
            throw new IllegalArgumentException("cannot compact through " + throughIndex + ": the log holds "
                    + firstIndex + ".." + lastIndex);
        }
        if (throughIndex == base) {
            return;
        }
        long newPrevTerm = term(throughIndex);
        int drop = 0;
        while (drop < runCount && runEnd(drop) <= throughIndex) {
            drop++;
        }
        try {
            for (int r = 0; r < drop; r++) {
                records.remove(runStarts[r]);
            }
            meta.put(K_LOG_START, encodeLogStart(throughIndex + 1, newPrevTerm));
            commit();
        } catch (RuntimeException | Error e) {
            throw writeFailed(e);
        }
        for (int r = 0; r < drop; r++) {
            cache.remove(runStarts[r]);
        }
        System.arraycopy(runStarts, drop, runStarts, 0, runCount - drop);
        runCount -= drop;
        int shift = (int) (throughIndex - base);
        System.arraycopy(terms, shift, terms, 0, termCount - shift);
        termCount -= shift;
        firstIndex = throughIndex + 1;
    }

    @Override
    public synchronized void resetTo(SnapshotMeta s) {
        ensureWritable();
        try {
            for (int r = 0; r < runCount; r++) {
                records.remove(runStarts[r]);
            }
            meta.put(K_LOG_START, encodeLogStart(s.index() + 1, s.term()));
            commit();
        } catch (RuntimeException | Error e) {
            throw writeFailed(e);
        }
        cache.clear();
        runCount = 0;
        terms[0] = s.term();
        termCount = 1;
        firstIndex = s.index() + 1;
        lastIndex = s.index();
    }

    private void commit() {
        Runnable hook = beforeCommit;
        if (hook != null) {
            hook.run();
        }
        db.commit();
    }

    private StorageException writeFailed(Throwable e) {
        failed = true;
        try {
            db.rollback();
        } catch (RuntimeException | Error ignored) {
            // the storage is unusable either way
        }
        return new StorageException("cannot write raft log " + file + ": " + MapDbFiles.describe(e)
                + "; the log refuses further writes, restart the node", e);
    }

    /** Test hook: runs inside every write transaction just before its commit (e.g. to copy the files, or throw). */
    synchronized void beforeCommit(Runnable hook) {
        this.beforeCommit = hook;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cache.clear();
        try {
            db.close();
        } catch (RuntimeException e) {
            throw new StorageException("cannot close raft log " + file + ": " + MapDbFiles.describe(e), e);
        }
    }

    @Override
    public String toString() {
        return "MapDbLogStorage{" + file + ", " + firstIndex + ".." + lastIndex + "}";
    }

    // ---------------------------------------------------------------------------------------------------- internals

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("raft log " + file + " is closed");
        }
    }

    private void ensureWritable() {
        ensureOpen();
        if (failed) {
            throw new StorageException("raft log " + file + " refuses writes after an earlier write failure");
        }
    }

    private StorageException corrupt(String what) {
        return new StorageException("raft log " + file + " is unreadable: " + what + "; the file was left as it is");
    }

    private void appendTerm(long term) {
        if (termCount == terms.length) {
            if (terms.length >= Integer.MAX_VALUE - 16) {
                throw new IllegalStateException("raft log " + file + " holds too many entries; compact it");
            }
            terms = Arrays.copyOf(terms, (int) Math.min(Integer.MAX_VALUE - 16L, terms.length * 2L));
        }
        terms[termCount++] = term;
    }

    private void addRun(long key) {
        if (runCount == runStarts.length) {
            runStarts = Arrays.copyOf(runStarts, runStarts.length * 2);
        }
        runStarts[runCount++] = key;
    }

    /** Position in runStarts of the run holding {@code index} (which must be held). */
    private int floorRun(long index) {
        int lo = 0;
        int hi = runCount - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (runStarts[mid] <= index) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** Last index (inclusive) of run {@code r}. */
    private long runEnd(int r) {
        return (r + 1 < runCount ? runStarts[r + 1] : lastIndex + 1) - 1;
    }

    private Entry[] run(long key) {
        Entry[] run = cache.get(key);
        if (run == null) {
            byte[] bytes = records.get(key);
            if (bytes == null) {
                throw new StorageException("raft log " + file + " lost the record of entries from " + key);
            }
            run = decodeRun(key, bytes);
            cache.put(key, run);
        }
        return run;
    }

    private Entry[] decodeRun(long key, byte[] bytes) {
        Entry[] run;
        try {
            run = EntryCodec.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw corrupt("the record of entries from " + key + " is damaged (" + e.getMessage() + ")");
        }
        if (run[0].index() != key) {
            throw corrupt("the record keyed " + key + " holds entries from " + run[0].index());
        }
        return run;
    }

    static byte[] encodeHardState(HardState hs) {
        BinaryWriter w = new BinaryWriter(32);
        w.writeByte(META_VERSION);
        w.writeVarLong(hs.term());
        w.writeVarLong(hs.commit());
        w.writeByte(hs.votedFor() == null ? 0 : 1);
        if (hs.votedFor() != null) {
            w.writeString(hs.votedFor());
        }
        return w.toByteArray();
    }

    private HardState decodeHardState(byte[] bytes) {
        try {
            BinaryReader r = new BinaryReader(bytes);
            checkMetaVersion(r.readByte("hard state version"), "hard state");
            long term = r.readVarLong("term", 0, Long.MAX_VALUE);
            long commit = r.readVarLong("commit", 0, Long.MAX_VALUE);
            int hasVote = r.readByte("vote flag");
            String vote = hasVote == 1 ? r.readString("voted for") : null;
            if (hasVote > 1) {
                throw new IllegalArgumentException("bad vote flag " + hasVote);
            }
            r.expectEnd("hard state");
            return new HardState(term, vote, commit);
        } catch (IllegalArgumentException e) {
            throw corrupt("the hard state is damaged (" + e.getMessage() + ")");
        }
    }

    private static byte[] encodeLogStart(long first, long prevTerm) {
        return new BinaryWriter(24).writeByte(META_VERSION).writeVarLong(first).writeVarLong(prevTerm).toByteArray();
    }

    private long[] decodeLogStart(byte[] bytes) {
        try {
            BinaryReader r = new BinaryReader(bytes);
            checkMetaVersion(r.readByte("log start version"), "log start");
            long first = r.readVarLong("first index", 1, Long.MAX_VALUE);
            long prevTerm = r.readVarLong("term before the first index", 0, Long.MAX_VALUE);
            r.expectEnd("log start");
            return new long[] {first, prevTerm};
        } catch (IllegalArgumentException e) {
            throw corrupt("the log start is damaged (" + e.getMessage() + ")");
        }
    }

    private static void checkMetaVersion(int version, String what) {
        if (version != META_VERSION) {
            throw new IllegalArgumentException("unsupported " + what + " format version " + version);
        }
    }
}
