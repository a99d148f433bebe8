package io.raftkv.statemachine;

import io.raftkv.storage.BinaryReader;
import io.raftkv.storage.BinaryWriter;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Client sessions (Raft dissertation, section 6.3): what makes a retried write apply at most once. A client names
 * itself with an id and numbers its writes; the state machine keeps, per client, the results of its latest
 * {@link #WINDOW} writes. A write whose (id, sequence) has a kept result is not applied again: it gets that result.
 * <p>
 * Everything here is decided by the log alone, so every member keeps the same sessions and any later leader answers a
 * retry as the first one would have been answered:
 * <ul>
 * <li>a session starts with a write of sequence 1 from an id it does not know;</li>
 * <li>a write whose sequence is below the oldest kept result of its session, or of a sequence above 1 from an unknown
 * id (the session expired or never was), is refused without effect ({@link Verdict#EXPIRED}): whether it was applied
 * before can no longer be told, and applying it again could apply it twice;</li>
 * <li>a session expires once no write of it was applied for {@link #EXPIRY_ENTRIES} log entries (checked at every
 * {@link #SWEEP_EVERY}-th index), and when {@link #MAX_SESSIONS} are kept a new one pushes out the least recently
 * active.</li>
 * </ul>
 * These constants are part of the state machine's definition: changing them changes what the log means.
 * <p>
 * A session's results hold no key or value (the retry carries those), so a session costs under 400 bytes.
 * Not thread-safe: the state machine's lock guards it.
 */
public final class ClientSessions {

    public static final int WINDOW = 16;
    public static final int MAX_SESSIONS = 10_000;
    public static final long EXPIRY_ENTRIES = 1_000_000;
    public static final long SWEEP_EVERY = 4096;
    static final int MAX_CLIENT_ID_CHARS = 128;
    private static final int FORMAT = 1;

    /** What to do with a write that names a session. */
    public enum Verdict {
        /** Apply it, then {@link #record} its result. */
        APPLY,
        /** Already applied: answer with {@link #cached}. */
        DUPLICATE,
        /** Refuse it without effect: its session expired or it is older than the kept results. */
        EXPIRED
    }

    /** One session: the index of its last applied write and the results of its latest writes, by sequence. */
    static final class Session {
        long lastActive;
        final LinkedHashMap<Long, ApplyResult> results = new LinkedHashMap<>();

        long oldestKept() {
            return results.isEmpty() ? Long.MAX_VALUE : results.keySet().iterator().next();
        }
    }

    // Insertion order = least recently active first (a session is moved to the end when it is used).
    private final LinkedHashMap<String, Session> sessions = new LinkedHashMap<>();

    public int size() {
        return sessions.size();
    }

    public Verdict check(String clientId, long sequence) {
        Session s = sessions.get(clientId);
        if (s == null) {
            return sequence == 1 ? Verdict.APPLY : Verdict.EXPIRED;
        }
        if (s.results.containsKey(sequence)) {
            return Verdict.DUPLICATE;
        }
        // Results are evicted oldest first, so a sequence at or above the oldest kept one that is not kept was
        // never applied.
        return sequence < s.oldestKept() ? Verdict.EXPIRED : Verdict.APPLY;
    }

    /** The kept result of a {@link Verdict#DUPLICATE} write. */
    public ApplyResult cached(String clientId, long sequence) {
        Session s = sessions.get(clientId);
        return s == null ? null : s.results.get(sequence);
    }

    /**
     * Records the result of an applied write at log index {@code index}. Returns the ids of sessions this pushed out
     * (the caller deletes them from its store) — the changed session itself is {@link #encode(String)}.
     */
    public List<String> record(String clientId, long sequence, long index, ApplyResult result) {
        List<String> evicted = new ArrayList<>();
        Session s = sessions.remove(clientId);
        if (s == null) {
            s = new Session();
            while (sessions.size() >= MAX_SESSIONS) {
                Iterator<String> eldest = sessions.keySet().iterator();
                evicted.add(eldest.next());
                eldest.remove();
            }
        }
        s.lastActive = index;
        s.results.put(sequence, result);
        // Keep the WINDOW highest sequences (clients may have several writes in flight, applied in any order).
        while (s.results.size() > WINDOW) {
            long lowest = Long.MAX_VALUE;
            for (long q : s.results.keySet()) {
                lowest = Math.min(lowest, q);
            }
            s.results.remove(lowest);
        }
        reorder(s);
        sessions.put(clientId, s);
        return evicted;
    }

    /** Keeps results in increasing sequence order, so the first one is the oldest kept. */
    private static void reorder(Session s) {
        List<Map.Entry<Long, ApplyResult>> sorted = new ArrayList<>(s.results.entrySet());
        sorted.sort(Map.Entry.comparingByKey());
        s.results.clear();
        sorted.forEach(e -> s.results.put(e.getKey(), e.getValue()));
    }

    /** At every {@link #SWEEP_EVERY}-th index: drops sessions idle for {@link #EXPIRY_ENTRIES}; returns their ids. */
    public List<String> expire(long index) {
        List<String> gone = new ArrayList<>();
        if (index % SWEEP_EVERY != 0) {
            return gone;
        }
        Iterator<Map.Entry<String, Session>> it = sessions.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<String, Session> e = it.next();
            if (index - e.getValue().lastActive < EXPIRY_ENTRIES) {
                break; // least recently active first: the rest are younger
            }
            gone.add(e.getKey());
            it.remove();
        }
        return gone;
    }

    public void clear() {
        sessions.clear();
    }

    // ------------------------------------------------------------------------------------------------ encoding

    /**
     * One session's stored form: format byte, varint lastActive, varint result count, then per result: varint
     * sequence, byte kind, varint index, varint term, varint version, byte deleted.
     */
    public byte[] encode(String clientId) {
        Session s = sessions.get(clientId);
        BinaryWriter w = new BinaryWriter(16 + s.results.size() * 24);
        w.writeByte(FORMAT);
        writeSession(w, s);
        return w.toByteArray();
    }

    private static void writeSession(BinaryWriter w, Session s) {
        w.writeVarLong(s.lastActive);
        w.writeVarLong(s.results.size());
        for (Map.Entry<Long, ApplyResult> e : s.results.entrySet()) {
            ApplyResult r = e.getValue();
            w.writeVarLong(e.getKey());
            w.writeByte(r.kind().ordinal());
            w.writeVarLong(r.index());
            w.writeVarLong(r.term());
            w.writeVarLong(r.version());
            w.writeByte(r.deleted() ? 1 : 0);
        }
    }

    /** Loads one stored session (from {@link #encode(String)}), keeping the least-recently-active order by index. */
    public void load(String clientId, byte[] stored) {
        BinaryReader r = new BinaryReader(stored);
        int format = r.readByte("session format");
        if (format != FORMAT) {
            throw new IllegalArgumentException("unsupported session format " + format);
        }
        Session s = readSession(r);
        r.expectEnd("the session of " + clientId);
        sessions.put(clientId, s);
    }

    /** After {@link #load}ing sessions in any order: puts them back in least-recently-active order. */
    public void sortByActivity() {
        List<Map.Entry<String, Session>> all = new ArrayList<>(sessions.entrySet());
        all.sort((a, b) -> a.getValue().lastActive != b.getValue().lastActive
                ? Long.compare(a.getValue().lastActive, b.getValue().lastActive) : a.getKey().compareTo(b.getKey()));
        sessions.clear();
        all.forEach(e -> sessions.put(e.getKey(), e.getValue()));
    }

    private static Session readSession(BinaryReader r) {
        Session s = new Session();
        s.lastActive = r.readVarLong("last active index", 0, Long.MAX_VALUE);
        long n = r.readVarLong("result count", 0, WINDOW);
        ApplyResult.Kind[] kinds = ApplyResult.Kind.values();
        for (long i = 0; i < n; i++) {
            long seq = r.readVarLong("sequence", 1, Long.MAX_VALUE);
            int kind = r.readByte("result kind");
            if (kind >= kinds.length) {
                throw new IllegalArgumentException("unknown result kind " + kind);
            }
            long index = r.readVarLong("result index", 1, Long.MAX_VALUE);
            long term = r.readVarLong("result term", 0, Long.MAX_VALUE);
            long version = r.readVarLong("result version", 0, Long.MAX_VALUE);
            boolean deleted = r.readByte("deleted") == 1;
            s.results.put(seq, new ApplyResult(index, term, kinds[kind], null, version, deleted));
        }
        return s;
    }

    /** Every session, for a snapshot: format byte, varint count, then per session: string id and its fields. */
    public byte[] encodeAll() {
        BinaryWriter w = new BinaryWriter(16 + sessions.size() * 64);
        w.writeByte(FORMAT);
        w.writeVarLong(sessions.size());
        for (Map.Entry<String, Session> e : sessions.entrySet()) {
            w.writeString(e.getKey());
            writeSession(w, e.getValue());
        }
        return w.toByteArray();
    }

    /** The sessions of {@link #encodeAll()} (an empty array: none), by id, in least-recently-active order. */
    public static ClientSessions decodeAll(byte[] bytes) {
        ClientSessions out = new ClientSessions();
        if (bytes.length == 0) {
            return out;
        }
        BinaryReader r = new BinaryReader(bytes);
        int format = r.readByte("sessions format");
        if (format != FORMAT) {
            throw new IllegalArgumentException("unsupported sessions format " + format);
        }
        long n = r.readVarLong("session count", 0, MAX_SESSIONS);
        for (long i = 0; i < n; i++) {
            String id = r.readString("client id");
            out.sessions.put(id, readSession(r));
        }
        r.expectEnd("the sessions");
        return out;
    }

    /** The ids of every session, least recently active first. */
    public List<String> ids() {
        return new ArrayList<>(sessions.keySet());
    }
}
