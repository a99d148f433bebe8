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
 */
public record ApplyResult(long index, long term, Kind kind, String key, long version, boolean deleted) {

    public enum Kind {
        OK,
        CONFLICT,
        NOOP
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
