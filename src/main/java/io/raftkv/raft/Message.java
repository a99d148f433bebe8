package io.raftkv.raft;

import java.util.List;

/**
 * A message between peers. One record for every kind, as in etcd/raft, so transports and simulators handle them
 * uniformly. Field meaning by type:
 * <ul>
 * <li>VOTE / PRE_VOTE: {@code index}, {@code logTerm} = candidate's last log index and term.</li>
 * <li>APPEND: {@code index}, {@code logTerm} = prevLogIndex, prevLogTerm; {@code entries}; {@code commit} =
 * leaderCommit.</li>
 * <li>APPEND_RESPONSE: success: {@code index} = last index known to match. Reject: {@code index} = the rejected
 * prevLogIndex, {@code hintIndex}/{@code hintTerm} = the follower's conflict index and term (0 when its log is too
 * short), for fast back-off.</li>
 * <li>HEARTBEAT: {@code commit}, {@code context} = the leader's latest ReadIndex round; HEARTBEAT_RESPONSE echoes
 * {@code context}.</li>
 * <li>SNAPSHOT: {@code index}, {@code logTerm} = the snapshot's point; {@code configuration} = the configuration as of
 * that point (the runtime carries it in the snapshot file's header; null on every other type).</li>
 * </ul>
 */
public record Message(MessageType type, String from, String to, long term, long logTerm, long index,
                      List<Entry> entries, long commit, boolean reject, long hintIndex, long hintTerm, long context,
                      Configuration configuration) {

    public Message {
        if (type == null || from == null || to == null) {
            throw new IllegalArgumentException("message type, from and to are required");
        }
        entries = entries == null ? List.of() : List.copyOf(entries);
    }

    /** A message without a configuration (every type but SNAPSHOT). */
    public Message(MessageType type, String from, String to, long term, long logTerm, long index,
                   List<Entry> entries, long commit, boolean reject, long hintIndex, long hintTerm, long context) {
        this(type, from, to, term, logTerm, index, entries, commit, reject, hintIndex, hintTerm, context, null);
    }

    public static Builder builder(MessageType type, String from, String to, long term) {
        return new Builder(type, from, to, term);
    }

    public Builder toBuilder() {
        Builder b = new Builder(type, from, to, term);
        b.logTerm = logTerm;
        b.index = index;
        b.entries = entries;
        b.commit = commit;
        b.reject = reject;
        b.hintIndex = hintIndex;
        b.hintTerm = hintTerm;
        b.context = context;
        b.configuration = configuration;
        return b;
    }

    @Override
    public String toString() {
        return type + "{" + from + "->" + to + " t" + term + " idx=" + index + " lt=" + logTerm
                + (entries.isEmpty() ? "" : " n=" + entries.size()) + " c=" + commit + (reject ? " REJECT h=" + hintIndex + "/" + hintTerm : "")
                + (context != 0 ? " ctx=" + context : "") + "}";
    }

    public static final class Builder {
        private final MessageType type;
        private final String from;
        private final String to;
        private final long term;
        private long logTerm;
        private long index;
        private List<Entry> entries = List.of();
        private long commit;
        private boolean reject;
        private long hintIndex;
        private long hintTerm;
        private long context;
        private Configuration configuration;

        private Builder(MessageType type, String from, String to, long term) {
            this.type = type;
            this.from = from;
            this.to = to;
            this.term = term;
        }

        public Builder logTerm(long v) { this.logTerm = v; return this; }
        public Builder index(long v) { this.index = v; return this; }
        public Builder entries(List<Entry> v) { this.entries = v; return this; }
        public Builder commit(long v) { this.commit = v; return this; }
        public Builder reject(boolean v) { this.reject = v; return this; }
        public Builder hint(long idx, long t) { this.hintIndex = idx; this.hintTerm = t; return this; }
        public Builder context(long v) { this.context = v; return this; }
        public Builder configuration(Configuration v) { this.configuration = v; return this; }

        public Message build() {
            return new Message(type, from, to, term, logTerm, index, entries, commit, reject, hintIndex, hintTerm, context, configuration);
        }
    }
}
