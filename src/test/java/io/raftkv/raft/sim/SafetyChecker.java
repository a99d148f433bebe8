package io.raftkv.raft.sim;

import io.raftkv.raft.ConfigEntry;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.confchange.Changer;
import io.raftkv.raft.confchange.ConfChangeRefusedException;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.raft.RaftStatus;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.statemachine.ApplyResult;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Raft's safety properties (paper figure 3), checked incrementally as the simulation runs, so a violation is reported
 * at the step that causes it:
 * <ul>
 * <li><b>Election safety</b>: at most one leader per term, ever (every node's role is looked at after every input).</li>
 * <li><b>Vote safety</b>: a node grants its vote to at most one candidate per term (from the VOTE_RESPONSEs it sends).</li>
 * <li><b>Log matching</b>: every log segment that appears anywhere (a Ready's entries about to be persisted, i.e. the
 * node's in-memory log; the entries of every AppendEntries sent, i.e. the leader's in-memory log) is registered as
 * (index, term) -&gt; (term of the previous entry, entry). Two occurrences of one (index, term) must agree on both, which
 * by induction makes the logs identical up to there. A full pairwise comparison of the persisted logs also runs
 * periodically.</li>
 * <li><b>Commit safety</b>: the entry at a committed index never changes, stays on a quorum of disks, and is never
 * replaced by a node that knows it is committed.</li>
 * <li><b>Leader completeness</b>: an entry committed while the committer was in term T is in the log of every leader
 * of a term &gt; T (checked both when a leader appears and when a commit is observed, against the log each leader had
 * when it started leading).</li>
 * <li><b>State machine safety</b>: every applied entry is the committed entry at its index, applied in index order, so
 * no two nodes apply different entries at an index.</li>
 * <li><b>Membership safety</b> (dissertation chapter 4): the committed configurations follow one another by single
 * server changes, each the result of its change applied to the one before; and the leader of the newest term always
 * uses the committed configuration or one server away from it, so that no majority of its voters can be disjoint from
 * a majority of the committed one. "On a quorum" above means: on enough of the committed configuration's voters that
 * every majority of them holds the entry.</li>
 * </ul>
 */
final class SafetyChecker {

    private record IndexTerm(long index, long term) {
    }

    private record LogRecord(long prevTerm, Entry entry, String where) {
    }

    private final Simulation sim;
    final Map<Long, String> leaderByTerm = new HashMap<>();
    /** Term -> the leader's log (term of each index, position 0 = index 0) when it started leading. */
    private final TreeMap<Long, long[]> leaderLogs = new TreeMap<>();
    private final Map<IndexTerm, LogRecord> logRecords = new HashMap<>();
    /** Committed entries by index (position i-1), and the lowest term a commit of each was observed in. */
    final List<Entry> committed = new ArrayList<>();
    private final List<Long> commitTerm = new ArrayList<>();
    private final List<Entry> applied = new ArrayList<>();
    private final Map<String, String> votes = new HashMap<>();
    private final List<Entry> truncatedCommitted = new ArrayList<>();
    boolean checkVotes = true;
    /** How the state machine applies (the mutations that break it), for replaying the committed log. */
    boolean dedupe = true;
    boolean conditions = true;
    private final TreeMap<Long, SimKv> replayed = new TreeMap<>(Map.of(0L, new SimKv()));
    boolean checkCommitQuorum = true;
    /** The configuration as of the last committed entry, and how many CONFIG entries have been committed. */
    private Configuration committedConfig;
    long configChangesCommitted;

    SafetyChecker(Simulation sim, Configuration bootstrap) {
        this.sim = sim;
        this.committedConfig = bootstrap;
    }

    private void fail(String property, String detail) {
        throw new SafetyViolation(property + " violated at step " + sim.step() + ": " + detail);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Hooks called by the simulation

    /** A node's disk as the simulation found it at start (pre-loaded logs in targeted tests). */
    void preloaded(Simulation.SimNode n) {
        List<Entry> all = n.disk.all();
        if (!all.isEmpty()) {
            registerSegment(n.id + " (preloaded)", 0, 0, all);
        }
    }

    /** A node (re)started from its disk: re-observe its persisted commit index. */
    void booted(Simulation.SimNode n) {
        n.commitSeen = 0;
        observeCommit(n, n.disk.hardState());
    }

    /** After any input (tick, message, proposal, read) to a node. */
    void afterInput(Simulation.SimNode n) {
        if (n.raft.role() == Role.LEADER) {
            leader(n.raft.term(), n.id);
        }
    }

    void beforePersist(Simulation.SimNode n, Ready rd) {
        List<Entry> entries = rd.entries();
        if (!entries.isEmpty()) {
            long first = entries.get(0).index();
            if (first < 1 || first > n.disk.lastIndex() + 1) {
                fail("log contiguity", n.id + " persists entries from " + first + " after " + n.disk.lastIndex());
            }
            long prevTerm = n.disk.term(first - 1);
            registerSegment(n.id + " ready", first - 1, prevTerm, entries);
            // A node never replaces an entry it knows to be committed. (It may lose one it does not know about: a
            // follower still in an old term can take a stale append from a deposed leader of a term below the commit's.
            // That is fine as long as the entry stays on a quorum, which is checked below.)
            long knownCommitted = n.disk.hardState().commit();
            long hi = Math.min(knownCommitted, n.disk.lastIndex());
            if (first <= hi) {
                List<Entry> mine = n.disk.entries(first, hi + 1, Long.MAX_VALUE);
                for (int i = 0; i < mine.size() && i < entries.size(); i++) {
                    if (!mine.get(i).equals(entries.get(i))) {
                        fail("commit safety", n.id + " overwrites " + mine.get(i) + " at or below its commit index " + knownCommitted
                                + " with " + entries.get(i));
                    }
                }
            }
        }
        // Committed entries this save will remove from the node's disk: they must still be on a quorum afterwards.
        truncatedCommitted.clear();
        if (!entries.isEmpty()) {
            long hi = Math.min(n.disk.lastIndex(), committed.size());
            for (long i = entries.get(0).index(); i <= hi; i++) {
                Entry c = committed.get((int) i - 1);
                int k = (int) (i - entries.get(0).index());
                if (n.disk.term(i) == c.term() && (k >= entries.size() || !entries.get(k).equals(c))) {
                    truncatedCommitted.add(c);
                }
            }
        }
        HardState hs = rd.hardState();
        if (hs != null) {
            long newLast = entries.isEmpty() ? n.disk.lastIndex() : entries.get(entries.size() - 1).index();
            if (hs.commit() > newLast) {
                fail("hard state", n.id + " persists commit " + hs.commit() + " beyond its log (last " + newLast + ")");
            }
            HardState old = n.disk.hardState();
            if (hs.term() < old.term()) {
                fail("hard state", n.id + " persists term " + hs.term() + " below its persisted term " + old.term());
            }
            if (checkVotes && hs.term() == old.term() && old.votedFor() != null && !old.votedFor().equals(hs.votedFor())) {
                fail("vote safety", n.id + " changes its persisted vote in term " + hs.term() + " from " + old.votedFor() + " to " + hs.votedFor());
            }
        }
    }

    void afterPersist(Simulation.SimNode n, Ready rd) {
        for (Entry c : truncatedCommitted) {
            checkOnQuorum(c, n.id + " truncated it");
        }
        if (rd.softState() != null && rd.softState().role() == Role.LEADER) {
            leader(rd.softState().term(), n.id);
        }
        observeCommit(n, n.disk.hardState());
        if (rd.hardState() != null) {
            observeCommit(n, rd.hardState()); // runtime order: a commit index alone is not saved at once, but decided
        }
        if (n.raft != null && n.raft.role() == Role.LEADER && n.raft.term() == leaderByTerm.keySet().stream().mapToLong(Long::longValue).max().orElse(0)) {
            // Its commit index is on disk, so every commit it knows of is observed: its configuration is the committed
            // one or its single uncommitted successor.
            Configuration c = n.raft.configuration();
            if (c.voterDistance(committedConfig) > 1) {
                fail("membership safety", "the leader " + n.id + " of term " + n.raft.term() + " uses " + c + ", two or more servers away from the committed "
                        + committedConfig + ": majorities of the two can be disjoint");
            }
        }
        if (n.raft != null && n.raft.role() == Role.LEADER && !leaderLogs.containsKey(n.raft.term())) {
            // The disk now holds the leader's whole log: the Ready was persisted and a leader only appends.
            newLeaderLog(n.raft.term(), n);
        }
    }

    void onSend(Message m) {
        if (m.type() == MessageType.APPEND && !m.entries().isEmpty()) {
            registerSegment(m.from() + " append->" + m.to(), m.index(), m.logTerm(), m.entries());
        }
        if (m.type() == MessageType.VOTE_RESPONSE && !m.reject() && checkVotes) {
            String prev = votes.putIfAbsent(m.from() + "@" + m.term(), m.to());
            if (prev != null && !prev.equals(m.to())) {
                fail("vote safety", m.from() + " voted for " + prev + " and for " + m.to() + " in term " + m.term());
            }
        }
    }

    void onApply(Simulation.SimNode n, Entry e) {
        if (e.index() != n.applied + 1) {
            fail("state machine safety", n.id + " applies " + e + " after " + n.applied);
        }
        if (e.index() > committed.size() || !committed.get((int) e.index() - 1).equals(e)) {
            fail("state machine safety", n.id + " applies " + e + " which is not the committed entry at its index ("
                    + (e.index() > committed.size() ? "none known" : committed.get((int) e.index() - 1)) + ")");
        }
        if (e.index() <= applied.size()) {
            Entry other = applied.get((int) e.index() - 1);
            if (!other.equals(e)) {
                fail("state machine safety", n.id + " applies " + e + " but another node applied " + other);
            }
        } else {
            applied.add(e);
        }
    }

    /**
     * A snapshot taken or installed: its point must be a committed entry, and its data exactly the state machine
     * obtained by applying the committed entries up to it (values, versions, client sessions).
     */
    void onSnapshot(Simulation.SimNode n, SnapshotMeta meta, SimKv kv, String what) {
        long i = meta.index();
        if (i > committed.size() || committed.get((int) i - 1).term() != meta.term()) {
            fail("snapshot safety", n.id + " " + what + " snapshot " + meta + " which is not a committed point ("
                    + (i > committed.size() ? "only " + committed.size() + " known committed" : committed.get((int) i - 1)) + ")");
        }
        SimKv expected = committedState(i);
        if (!expected.equals(kv)) {
            fail("snapshot safety", n.id + " " + what + " snapshot " + meta + " holding " + kv + " but the committed log gives " + expected);
        }
    }

    /** The state machine after the committed entries up to {@code index}, replayed from the nearest one computed. */
    private SimKv committedState(long index) {
        Map.Entry<Long, SimKv> from = replayed.floorEntry(index);
        SimKv kv = from.getValue().copy();
        for (long k = from.getKey() + 1; k <= index; k++) {
            kv.apply(committed.get((int) k - 1), dedupe, conditions);
        }
        if (index > from.getKey()) {
            replayed.put(index, kv.copy());
        }
        return kv;
    }

    /**
     * At most once: after a replica applies a session write, it has executed that (client, sequence) at most once
     * along its own applied history (retries of it must have been recognized as duplicates).
     */
    void onApplied(Simulation.SimNode n, Entry e, ApplyResult r) {
        if (r == null || r.duplicate() || r.expired() || e.type() != EntryType.COMMAND) {
            return;
        }
        io.raftkv.statemachine.KvCommand cmd = io.raftkv.statemachine.KvCommand.decode(e.data());
        if (cmd.clientId() != null && n.kv.applications(cmd.clientId(), cmd.sequence()) > 1) {
            fail("at-most-once", n.id + " executes request " + cmd.clientId() + "#" + cmd.sequence() + " again at " + e
                    + " (it has now executed it " + n.kv.applications(cmd.clientId(), cmd.sequence()) + " times)");
        }
    }

    /** Cheap per-step checks (and, every 64 steps, each node's status). */
    void afterStep() {
        boolean status = sim.step() % 64 == 0;
        for (Simulation.SimNode n : sim.nodes()) {
            if (n.up && n.raft.role() == Role.LEADER) {
                leader(n.raft.term(), n.id);
            }
            if (status && n.up) {
                checkStatus(n);
            }
        }
    }

    private void checkStatus(Simulation.SimNode n) {
        RaftStatus st = n.raft.status();
        if (!(st.lastApplied() <= st.commitIndex() && st.commitIndex() <= st.lastIndex())) {
            fail("status", n.id + " has applied/commit/last out of order: " + st);
        }
        if (!n.dirty && st.lastApplied() != n.applied) {
            fail("status", n.id + " core says applied " + st.lastApplied() + " but its state machine applied " + n.applied);
        }
        if (st.role() == Role.LEADER) {
            long others = st.configuration().members().stream().filter(m -> !m.equals(n.id)).count();
            if (st.peers().size() != others) {
                fail("status", n.id + " leads without progress for every peer: " + st);
            }
            for (Map.Entry<String, RaftStatus.PeerProgress> p : st.peers().entrySet()) {
                RaftStatus.PeerProgress pr = p.getValue();
                if (pr.matchIndex() > st.lastIndex() || pr.nextIndex() <= pr.matchIndex() || pr.nextIndex() > st.lastIndex() + 1) {
                    fail("status", n.id + "'s progress for " + p.getKey() + " is inconsistent: " + pr + " (last " + st.lastIndex() + ")");
                }
            }
        }
    }

    /** Full comparison of the persisted logs, and every committed entry still on a quorum of disks. */
    void fullCheck() {
        List<Simulation.SimNode> nodes = sim.nodes();
        for (int a = 0; a < nodes.size(); a++) {
            for (int b = a + 1; b < nodes.size(); b++) {
                Simulation.SimNode na = nodes.get(a);
                Simulation.SimNode nb = nodes.get(b);
                // Below both logs' starts the entries are compacted (committed, checked through the snapshots).
                long from = Math.max(na.disk.firstIndex(), nb.disk.firstIndex());
                long i = Math.min(na.disk.lastIndex(), nb.disk.lastIndex());
                while (i >= from && na.disk.term(i) != nb.disk.term(i)) {
                    i--;
                }
                if (i < from) {
                    continue;
                }
                List<Entry> la = na.disk.entries(from, i + 1, Long.MAX_VALUE);
                List<Entry> lb = nb.disk.entries(from, i + 1, Long.MAX_VALUE);
                for (int k = 0; k < la.size(); k++) {
                    if (!la.get(k).equals(lb.get(k))) {
                        fail("log matching", na.id + " and " + nb.id + " agree on the term at index " + i
                                + " but differ at " + la.get(k).index() + ": " + la.get(k) + " vs " + lb.get(k));
                    }
                }
            }
        }
        for (int i = 1; checkCommitQuorum && i <= committed.size(); i++) {
            checkOnQuorum(committed.get(i - 1), "full check");
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private void leader(long term, String id) {
        String prev = leaderByTerm.putIfAbsent(term, id);
        if (prev != null && !prev.equals(id)) {
            fail("election safety", "two leaders in term " + term + ": " + prev + " and " + id);
        }
    }

    private void registerSegment(String where, long prevIndex, long prevTerm, List<Entry> entries) {
        long pIdx = prevIndex;
        long pTerm = prevTerm;
        for (Entry e : entries) {
            if (e.index() != pIdx + 1) {
                fail("log contiguity", where + ": " + e + " follows index " + pIdx);
            }
            if (e.term() < pTerm) {
                fail("log term order", where + ": " + e + " follows an entry of term " + pTerm);
            }
            IndexTerm key = new IndexTerm(e.index(), e.term());
            LogRecord r = logRecords.get(key);
            if (r == null) {
                logRecords.put(key, new LogRecord(pTerm, e, where));
            } else if (r.prevTerm() != pTerm || !r.entry().equals(e)) {
                fail("log matching", where + " has " + e + " after term " + pTerm + " but " + r.where() + " had "
                        + r.entry() + " after term " + r.prevTerm());
            }
            pIdx = e.index();
            pTerm = e.term();
        }
    }

    private void observeCommit(Simulation.SimNode n, HardState hs) {
        long c = hs.commit();
        if (c <= n.commitSeen) {
            return;
        }
        long lo = Math.max(n.commitSeen + 1, n.disk.firstIndex());
        if (lo <= c) {
            for (Entry e : n.disk.entries(lo, c + 1, Long.MAX_VALUE)) {
                recordCommit(e, hs.term(), n.id);
            }
        }
        n.commitSeen = c;
    }

    private void recordCommit(Entry e, long term, String where) {
        int i = (int) e.index();
        if (i <= committed.size()) {
            Entry known = committed.get(i - 1);
            if (!known.equals(e)) {
                fail("commit safety", where + " commits " + e + " but " + known + " was committed at that index");
            }
            if (term < commitTerm.get(i - 1)) {
                commitTerm.set(i - 1, term);
                checkLeadersHave(e, term);
            }
        } else if (i == committed.size() + 1) {
            committed.add(e);
            commitTerm.add(term);
            if (e.type() == EntryType.CONFIG) {
                configurationCommitted(e, where);
            }
            checkLeadersHave(e, term);
            checkOnQuorum(e, where + " observed its commit");
        } else {
            fail("commit safety", where + " commits " + e + " but only " + committed.size() + " entries are known committed");
        }
    }

    private void configurationCommitted(Entry e, String where) {
        ConfigEntry ce = ConfigEntry.decode(e.data());
        Configuration expected;
        try {
            expected = Changer.apply(committedConfig, ce.change());
        } catch (ConfChangeRefusedException x) {
            fail("membership safety", where + " commits " + e + " (" + ce.change() + ") which does not apply to the committed " + committedConfig);
            return;
        }
        if (!expected.equals(ce.configuration()) || expected.voterDistance(committedConfig) > 1) {
            fail("membership safety", where + " commits " + e + ": " + ce.change() + " on " + committedConfig + " gives " + expected
                    + ", the entry says " + ce.configuration());
        }
        committedConfig = ce.configuration();
        configChangesCommitted++;
    }

    /**
     * A committed entry is on the disks of enough of the committed configuration's voters that every majority of
     * them includes a holder (for an odd number of voters: on a majority).
     */
    private void checkOnQuorum(Entry e, String when) {
        if (!checkCommitQuorum) {
            return;
        }
        int holders = 0;
        List<String> voters = committedConfig.voters();
        for (String v : voters) {
            if (holds(sim.node(v), e)) {
                holders++;
            }
        }
        if (holders < voters.size() - (voters.size() / 2 + 1) + 1) {
            fail("commit safety", "committed " + e + " is on only " + holders + " disks of the voters " + voters + " (" + when + ")");
        }
    }

    /**
     * Whether {@code n}'s disk holds committed entry {@code e}: in its log, or covered by its snapshot (compacted or
     * installed entries are committed ones; {@link #onSnapshot} checks each snapshot against them).
     */
    private boolean holds(Simulation.SimNode n, Entry e) {
        long start = n.disk.firstIndex() - 1;
        if (e.index() <= start) {
            return n.snapshot != null && n.snapshot.meta().index() >= e.index();
        }
        return n.disk.lastIndex() >= e.index() && n.disk.term(e.index()) == e.term();
    }

    /** The term of index {@code i} on {@code n}'s disk, the committed term for a compacted index, -1 if absent. */
    private long termOnDisk(Simulation.SimNode n, long i) {
        if (i > n.disk.lastIndex()) {
            return -1;
        }
        if (i >= n.disk.firstIndex() - 1) {
            return n.disk.term(i);
        }
        return i <= committed.size() ? committed.get((int) i - 1).term() : -1;
    }

    private void checkLeadersHave(Entry e, long commitTerm) {
        for (Map.Entry<Long, long[]> l : leaderLogs.tailMap(commitTerm, false).entrySet()) {
            long[] log = l.getValue();
            if (log.length <= e.index() || log[(int) e.index()] != e.term()) {
                fail("leader completeness", e + " committed in term " + commitTerm + " is missing from the log of the leader of term "
                        + l.getKey() + " (" + leaderByTerm.get(l.getKey()) + ")");
            }
        }
    }

    private void newLeaderLog(long term, Simulation.SimNode n) {
        long[] log = new long[(int) n.disk.lastIndex() + 1];
        for (long i = 1; i < log.length; i++) {
            log[(int) i] = termOnDisk(n, i);
        }
        leaderLogs.put(term, log);
        for (int i = 1; i <= committed.size(); i++) {
            Entry c = committed.get(i - 1);
            if (commitTerm.get(i - 1) < term && (log.length <= i || log[i] != c.term())) {
                fail("leader completeness", "new leader " + n.id + " of term " + term + " lacks " + c + " committed in term "
                        + commitTerm.get(i - 1));
            }
        }
    }

    int leadersElected() {
        return leaderByTerm.size();
    }
}
