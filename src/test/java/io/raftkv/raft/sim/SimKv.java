package io.raftkv.raft.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.ClientSessions;
import io.raftkv.statemachine.KvCommand;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The simulation's state machine: a model of {@code KvStateMachine} without MapDB. It applies the real command
 * encoding ({@link KvCommand}: put and delete, optionally conditional on the key's version or value, optionally
 * tagged with a client session) with the same rules as {@code KvStateMachine.execute}: a key's version is the index of
 * the entry that last wrote it (0 = absent), a failed condition changes nothing ({@link ApplyResult.Kind#CONFLICT}).
 * Session writes go through the real {@link ClientSessions} (its pure, log-driven dedup, window and expiry rules, the
 * same object the real state machine uses), so a retry that applied before gets the first result and no effect.
 * <p>
 * It also counts, per (client id, sequence), how often a session write was executed on this replica's applied
 * sequence ({@link #applications}): part of the replica's state (copied by flushes and snapshots like the rest), so
 * "applied at most once" is checked along each replica's own history, across restarts and snapshot installs.
 */
public final class SimKv {

    /** A key's value and version. */
    public record Val(String value, long version) {
    }

    private final TreeMap<String, Val> data;
    private final ClientSessions sessions;
    private final HashMap<String, Integer> applications;

    public SimKv() {
        this(new TreeMap<>(), new ClientSessions(), new HashMap<>());
    }

    private SimKv(TreeMap<String, Val> data, ClientSessions sessions, HashMap<String, Integer> applications) {
        this.data = data;
        this.sessions = sessions;
        this.applications = applications;
    }

    /** An independent copy (what a flush or a snapshot keeps). Sessions are copied through their snapshot encoding. */
    public SimKv copy() {
        return new SimKv(new TreeMap<>(data), ClientSessions.decodeAll(sessions.encodeAll()), new HashMap<>(applications));
    }

    public Val get(String key) {
        return data.get(key);
    }

    /** The values by key (the scenario tests' view). */
    public Map<String, String> values() {
        TreeMap<String, String> out = new TreeMap<>();
        data.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** How often the session write (client, sequence) was executed on this replica's history (0, 1, or a bug). */
    public int applications(String clientId, long sequence) {
        return applications.getOrDefault(clientId + "#" + sequence, 0);
    }

    /**
     * Applies one committed entry; null for an entry that is not a command. {@code dedupe=false} is the
     * {@link Mutation#NO_SESSION_DEDUP} bug (every session write is executed, retries included);
     * {@code conditions=false} is {@link Mutation#IGNORE_CONDITIONS} (conditional writes always take effect).
     */
    ApplyResult apply(Entry e, boolean dedupe, boolean conditions) {
        ApplyResult r = null;
        if (e.type() == EntryType.COMMAND) {
            KvCommand cmd = KvCommand.decode(e.data());
            if (cmd.clientId() == null) {
                r = execute(e, cmd, conditions);
            } else {
                String id = cmd.clientId();
                long seq = cmd.sequence();
                ClientSessions.Verdict v = dedupe ? sessions.check(id, seq) : ClientSessions.Verdict.APPLY;
                switch (v) {
                    case DUPLICATE -> r = ApplyResult.repeat(e.index(), e.term(), cmd.key(), sessions.cached(id, seq));
                    case EXPIRED -> r = ApplyResult.expired(e.index(), e.term(), cmd.key());
                    default -> {
                        r = execute(e, cmd, conditions);
                        sessions.record(id, seq, e.index(), r);
                        applications.merge(id + "#" + seq, 1, Integer::sum);
                    }
                }
            }
        }
        sessions.expire(e.index());
        return r;
    }

    private ApplyResult execute(Entry e, KvCommand cmd, boolean conditions) {
        String key = cmd.key();
        Val cur = data.get(key);
        if (conditions && !holds(cmd.condition(), cur)) {
            return ApplyResult.conflict(e.index(), e.term(), key, cur == null ? 0 : cur.version());
        }
        if (cmd.op() == KvCommand.Op.PUT) {
            data.put(key, new Val(new String(cmd.value(), StandardCharsets.UTF_8), e.index()));
            return ApplyResult.put(e.index(), e.term(), key);
        }
        data.remove(key);
        return ApplyResult.delete(e.index(), e.term(), key, cur != null);
    }

    private static boolean holds(KvCommand.Condition c, Val cur) {
        if (c instanceof KvCommand.VersionIs v) {
            return (cur == null ? 0 : cur.version()) == v.version();
        }
        if (c instanceof KvCommand.ValueIs v) {
            return cur != null && Arrays.equals(cur.value().getBytes(StandardCharsets.UTF_8), v.value());
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SimKv k && k.data.equals(data) && Arrays.equals(k.sessions.encodeAll(), sessions.encodeAll())
                && k.applications.equals(applications);
    }

    @Override
    public int hashCode() {
        return Objects.hash(data, applications);
    }

    @Override
    public String toString() {
        return data + (sessions.size() == 0 ? "" : " sessions=" + sessions.ids());
    }
}
