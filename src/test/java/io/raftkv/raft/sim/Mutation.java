package io.raftkv.raft.sim;

/** Deliberate bugs, to show that the checkers catch them. */
public enum Mutation {
    NONE,
    /** Storage that forgets the vote on restart (the hard state's votedFor reads back as null). */
    FORGET_VOTE,
    /** A runtime that releases a Ready's messages before persisting it, and may crash in between. */
    SEND_BEFORE_PERSIST,
    /** Reads served from the local state machine of whichever node the client asks, without ReadIndex. */
    LOCAL_READS,
    /**
     * A restart that finds the state machine behind the newest snapshot and, instead of loading the snapshot,
     * only moves lastApplied up to it (the entries the snapshot covers are never applied).
     */
    SKIP_SNAPSHOT_LOAD,
    /**
     * Leaders accept a membership change before committing an entry of their own term (the single-server change bug
     * of Ongaro's raft-dev note: two changes from different leaders add up to a two-server change).
     */
    CONF_CHANGE_BEFORE_TERM_COMMIT,
    /** Leaders commit an entry of an earlier term once a quorum stores it, without one of their own (Figure 8). */
    COMMIT_OLD_TERM,
    /** The state machine ignores client sessions: a retried write is applied again (at-most-once broken). */
    NO_SESSION_DEDUP,
    /** The runtime answers "not proposed" (503) to a third of the writes the core did append. */
    CLAIM_NOT_PROPOSED,
    /** The state machine ignores the conditions of conditional writes (compare-and-set always takes effect). */
    IGNORE_CONDITIONS
}
