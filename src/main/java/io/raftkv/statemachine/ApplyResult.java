package io.raftkv.statemachine;

/**
 * The outcome of applying one log entry.
 *
 * @param index   the entry's log index
 * @param term    the entry's term
 * @param kind    {@link Kind#OK}: the command took effect; {@link Kind#CONFLICT}: its condition failed and nothing
 *                changed; {@link Kind#NOOP}: the entry is not a command (leader no-op, configuration)
 * @param key     the command's key; null for {@link Kind#NOOP}
 * @param version the key's version after the entry, 0 if the key does not exist. A version is the log index of the
 *                entry that last wrote the key: after an OK put it is {@code index}, after an OK delete 0, and on a
 *                CONFLICT it is the key's current (unchanged) version
 * @param deleted whether an OK delete removed an existing key
 * @param originalIndex for a retried write of a client session ({@link ClientSessions}) that was not applied again:
 *                      the index of the entry that did apply it, whose result this repeats; otherwise {@code index}
 * @param originalTerm  that entry's term; otherwise {@code term}
 */
public record ApplyResult(long index, long term, Kind kind, String key, long version, boolean deleted,
                          long originalIndex, long originalTerm) {

    /** The stored codes are the ordinals: only ever add at the end. */
    public enum Kind {
        OK,
        CONFLICT,
        NOOP,
        /** A session write refused without effect: its session expired or it is older than the kept results. */
        EXPIRED
    }

    public ApplyResult(long index, long term, Kind kind, String key, long version, boolean deleted) {
        this(index, term, kind, key, version, deleted, index, term);
    }

    public static ApplyResult expired(long index, long term, String key) {
        return new ApplyResult(index, term, Kind.EXPIRED, key, 0, false);
    }

    /** The answer to a retry applied before at {@code first}: its result, for the retry's entry at index/term. */
    public static ApplyResult repeat(long index, long term, String key, ApplyResult first) {
        return new ApplyResult(index, term, first.kind, key, first.version, first.deleted, first.index, first.term);
    }

    /** Whether this repeats the result of an earlier entry (a retry that was not applied again). */
    public boolean duplicate() {
        return originalIndex != index;
    }

    public boolean expired() {
        return kind == Kind.EXPIRED;
    }

    public static ApplyResult noop(long index, long term) {
        return new ApplyResult(index, term, Kind.NOOP, null, 0, false);
    }

    public static ApplyResult put(long index, long term, String key) {
        return new ApplyResult(index, term, Kind.OK, key, index, false);
    }

    public static ApplyResult delete(long index, long term, String key, boolean deleted) {
        return new ApplyResult(index, term, Kind.OK, key, 0, deleted);
    }

    public static ApplyResult conflict(long index, long term, String key, long currentVersion) {
        return new ApplyResult(index, term, Kind.CONFLICT, key, currentVersion, false);
    }

    public boolean ok() {
        return kind == Kind.OK;
    }

    public boolean conflict() {
        return kind == Kind.CONFLICT;
    }
}
