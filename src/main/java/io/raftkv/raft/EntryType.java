package io.raftkv.raft;

/** What an entry carries. The numeric codes are part of the storage and wire formats: never renumber. */
public enum EntryType {
    /** Appended by a new leader so it can commit an entry of its own term (Raft paper, section 8). */
    NOOP(0),
    /** A client command for the state machine. */
    COMMAND(1),
    /** A membership change (a cluster configuration in the log, see ConfigEntry). */
    CONFIG(2),
    /**
     * A member's incarnation (which data directory is that member), registered by a leader so that every member
     * knows it: opaque to the core and a no-op for the state machine; the runtime applies it (io.raftkv.membership).
     */
    IDENTITY(3);

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
