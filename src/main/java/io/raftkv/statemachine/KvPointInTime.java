package io.raftkv.statemachine;

import java.util.List;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A read of the whole {@link KvStateMachine} as of one log index, taken while entries keep being applied: the source
 * of a snapshot. {@link KvStateMachine#beginPointInTime()} starts it at the current lastApplied; {@link #nextBatch}
 * then returns every key that existed at that index, with its version, create index and value as of that index, in
 * key order, a batch at a time; {@link #close} ends it (always call it: while it is open, applies keep pre-images).
 *
 * <h2>How it stays at one index</h2>
 * While it is open, {@code apply} calls {@link #beforeChange} before it modifies a key (put or delete that takes
 * effect), under the state machine's write lock. The first time a key changes, its stored bytes before the change
 * are kept here as its <em>pre-image</em> (or {@link #ABSENT} if it did not exist); later changes of the same key keep
 * the first pre-image, which is therefore the key's state at the snapshot index. {@link #nextBatch} reads, under the
 * read lock, the next keys of the live B-tree after the cursor (the last key returned) and the pre-images in the same
 * key range, and merges them: a key with a pre-image gets it (skipped if absent), a key without one has not changed
 * since the snapshot index and gets its live value; pre-imaged keys missing from the live tree were deleted since and
 * come back from their pre-image. When the live tree is exhausted, the remaining pre-images are merged in.
 *
 * <h2>Races, and why they are harmless</h2>
 * <ul>
 * <li>Start: {@code beginPointInTime} holds the state machine's monitor (no apply is running, {@code apply} is
 * synchronized) and its write lock, so index, key count and the registration are one instant between two batches.
 * <li>A batch is read entirely under the read lock; {@code apply} changes keys only under the write lock and records
 * the pre-image before the change in the same critical section. So within one batch's key range, the live tree and
 * the pre-images are a consistent pair: for every key, either it is unchanged since the snapshot index (live value is
 * right) or its pre-image is present. Different batches may see different instants; that does not matter because each
 * key range is read once, ranges do not overlap and together cover all keys.
 * <li>The cursor is advanced under the read lock; {@code apply} reads it under the write lock (the lock orders them)
 * and does not record keys at or before it: they have been returned and will never be read again. Pre-images at or
 * before the cursor are dropped after each batch, so memory is bounded by keys changed during the snapshot that the
 * cursor has not passed yet.
 * <li>A key deleted and re-created during the snapshot keeps its first pre-image; a key created and deleted again
 * keeps {@link #ABSENT}: the live tree's state at read time never leaks into the result for a changed key.
 * <li>Close and an install of new content (which ends the read: {@link #abandon}) happen under the write lock; a
 * batch read after that fails instead of returning content of another state.
 * </ul>
 * Threads: one thread calls {@link #nextBatch} (the snapshot writer); {@link #beforeChange} runs on the applying
 * thread.
 */
public final class KvPointInTime implements AutoCloseable {

    /** Pre-image of a key that did not exist at the snapshot index (compared by identity; stored values are never empty). */
    static final byte[] ABSENT = new byte[0];

    private final KvStateMachine owner;
    private final long index;
    private final long count;
    private final byte[] sessions;
    // Written under the owner's write lock (apply) or read lock (the reader, while no apply can run); the map itself is
    // concurrent so that an HTTP reader holding the read lock at the same time is not an issue (it never touches it).
    final ConcurrentSkipListMap<String, byte[]> preImages = new ConcurrentSkipListMap<>();
    // The last key returned; null before the first batch. Guarded by the owner's lock (see the class comment).
    String cursor;
    // All keys returned: apply no longer needs to record anything. Guarded by the owner's lock.
    boolean exhausted;
    // Closed or abandoned: guarded by the owner's lock.
    String endedBecause;

    KvPointInTime(KvStateMachine owner, long index, long count, byte[] sessions) {
        this.owner = owner;
        this.index = index;
        this.count = count;
        this.sessions = sessions;
    }

    /** The client sessions as of {@link #index()} ({@link ClientSessions#encodeAll}), copied when the read began. */
    public byte[] sessions() {
        return sessions.clone();
    }

    /** The log index whose state this reads (the state machine's lastApplied when it started). */
    public long index() {
        return index;
    }

    /** Number of keys at {@link #index()}: exactly how many entries the batches return in total. */
    public long count() {
        return count;
    }

    /**
     * The next keys as of {@link #index()}, in key order after those already returned, about {@code maxKeys} of them
     * (more when keys deleted since the snapshot index come back); an empty list once every key has been returned.
     * Applies are held off only while one batch is read.
     */
    public List<KvEntry> nextBatch(int maxKeys) {
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be at least 1: " + maxKeys);
        }
        return owner.readPointInTime(this, maxKeys);
    }

    /** Number of pre-images held now (for tests and metrics). */
    public int preImageCount() {
        return preImages.size();
    }

    /** Called by apply, under the write lock, before {@code key} changes; {@code raw} is its stored bytes or null. */
    void beforeChange(String key, byte[] raw) {
        if (exhausted || endedBecause != null || (cursor != null && key.compareTo(cursor) <= 0)) {
            return;
        }
        preImages.putIfAbsent(key, raw == null ? ABSENT : raw);
    }

    /** Ends the read because the content it reads is going away (under the owner's write lock). */
    void abandon(String why) {
        if (endedBecause == null) {
            endedBecause = why;
        }
        preImages.clear();
    }

    /** Ends the read; applies stop keeping pre-images. Idempotent. */
    @Override
    public void close() {
        owner.endPointInTime(this);
    }

    @Override
    public String toString() {
        return "KvPointInTime{index " + index + ", " + count + " keys, cursor " + cursor + "}";
    }
}
