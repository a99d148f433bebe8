package io.raftkv.raft;

/** Kinds of peer messages. The numeric codes are part of the wire format: never renumber. */
public enum MessageType {
    /** RequestVote. */
    VOTE(1, true),
    VOTE_RESPONSE(2, false),
    /** PreVote: a RequestVote for term+1 that changes no one's term or vote. */
    PRE_VOTE(3, true),
    PRE_VOTE_RESPONSE(4, false),
    /** AppendEntries carrying entries (or none, to carry the commit index or probe). */
    APPEND(5, true),
    APPEND_RESPONSE(6, false),
    /** AppendEntries without a consistency check: leader liveness, commit index, ReadIndex confirmation. */
    HEARTBEAT(7, true),
    HEARTBEAT_RESPONSE(8, false),
    /** Leadership transfer: the leader tells an up-to-date follower to start an election now (thesis 3.10). */
    TIMEOUT_NOW(9, true),
    /**
     * InstallSnapshot: the follower needs entries the leader has compacted. {@code index}, {@code logTerm} = the
     * snapshot's last included index and term. The runtime carries the snapshot's data beside the message (streamed
     * in chunks) and steps the message into the follower's core only once the data is complete and verified; the
     * follower answers with an APPEND_RESPONSE.
     */
    SNAPSHOT(10, true);

    public final int code;
    public final boolean request;

    MessageType(int code, boolean request) {
        this.code = code;
        this.request = request;
    }

    public static MessageType fromCode(int code) {
        for (MessageType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown message type code " + code);
    }
}
