package io.raftkv.raft;

/** What an entry carries. The numeric codes are part of the storage and wire formats: never renumber. */
public enum EntryType {
    /** Appended by a new leader so it can commit an entry of its own term (Raft paper, section 8). */
    NOOP(0),
    /** A client command for the state machine. */
    COMMAND(1),
    /** Reserved for membership change (a cluster configuration in the log). */
    CONFIG(2);

    public final int code;

    EntryType(int code) {
        this.code = code;
    }

    public static EntryType fromCode(int code) {
        for (EntryType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown entry type code " + code);
    }
}
