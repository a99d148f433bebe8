package io.raftkv.statemachine;

import io.raftkv.raft.Entry;
import org.mapdb.DB;
import org.mapdb.HTreeMap;
import org.mapdb.Serializer;

import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The client sessions of {@link KvStateMachine} ({@link ClientSessions}, in memory) together with their MapDB
 * collection {@code "kvSessions"}: every change to a session is written there in the store's open transaction, so it
 * becomes durable with the entry that made it. Guarded by the state machine's lock, like the rest of its state.
 */
final class DurableSessions {

    private final ClientSessions sessions = new ClientSessions();
    private HTreeMap<String, byte[]> store; // null when a read-only store has none

    /**
     * Loads the sessions of {@code db}, creating their collection if it does not {@code exist} (unless read-only: a
     * read-only store without one has no sessions). A damaged session throws what {@code corrupt} makes of the reason.
     */
    void load(DB db, boolean exists, boolean readOnly, Function<String, ? extends RuntimeException> corrupt) {
        sessions.clear();
        store = null;
        if (!exists && readOnly) {
            return;
        }
        store = exists ? db.hashMap(KvStateMachine.SESSIONS, Serializer.STRING, Serializer.BYTE_ARRAY).open()
                : db.hashMap(KvStateMachine.SESSIONS, Serializer.STRING, Serializer.BYTE_ARRAY).create();
        for (Map.Entry<String, byte[]> e : store.entrySet()) {
            try {
                sessions.load(e.getKey(), e.getValue());
            } catch (IllegalArgumentException ex) {
                throw corrupt.apply("the session of client '" + e.getKey() + "' is damaged (" + ex.getMessage() + ")");
            }
        }
        sessions.sortByActivity();
    }

    /**
     * A write of a client session, applied at most once (see {@link ClientSessions}): a duplicate is answered from the
     * session's cache, an expired sequence is refused, and a new one is {@code execute}d and recorded.
     */
    ApplyResult applyOnce(Entry e, KvCommand cmd, BiFunction<Entry, KvCommand, ApplyResult> execute) {
        String id = cmd.clientId();
        long seq = cmd.sequence();
        switch (sessions.check(id, seq)) {
            case DUPLICATE:
                return ApplyResult.repeat(e.index(), e.term(), cmd.key(), sessions.cached(id, seq));
            case EXPIRED:
                return ApplyResult.expired(e.index(), e.term(), cmd.key());
            default:
                ApplyResult r = execute.apply(e, cmd);
                for (String gone : sessions.record(id, seq, e.index(), r)) {
                    store.remove(gone);
                }
                store.put(id, sessions.encode(id));
                return r;
        }
    }

    /** Entry {@code applied} was applied: sessions idle for too long end. */
    void expire(long applied) {
        for (String gone : sessions.expire(applied)) {
            store.remove(gone);
        }
    }

    /** Client sessions kept. */
    int size() {
        return sessions.size();
    }

    /** Every session in its snapshot form ({@link ClientSessions#encodeAll}). */
    byte[] encodeAll() {
        return sessions.encodeAll();
    }
}
