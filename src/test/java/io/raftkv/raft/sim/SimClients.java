package io.raftkv.raft.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Role;
import io.raftkv.raft.sim.LinearizabilityChecker.Kind;
import io.raftkv.raft.sim.Simulation.SimNode;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.KvCommand;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The simulated clients and their requests, behaving like the real ones ({@code CtlClient}): each client has a
 * session id and numbers its writes; a write whose attempt gets no answer (a timeout, a crash of the node it was sent
 * to, a leader change seen at that node, a snapshot install there: the 504 class, "outcome unknown") or gets "not
 * proposed" / "lost" (the 503 class, "certainly not applied") is sent again, the same command with the same id and
 * sequence number, to another node, up to {@link SimOptions#maxAttempts} times. A retry that applied before gets the
 * first attempt's result from the state machine's session and no effect. Reads are retried the same way (they are
 * idempotent).
 * <p>
 * The ledger behind the checks: every attempt that was appended (the node answered with a log entry), and every
 * attempt answered "lost". {@link #checkRequests} then requires that each committed session entry is the entry of an
 * attempt of that request that was appended and not answered "lost", and that a request answered with the 503 class
 * on every attempt (history status FAILED) was applied on no replica.
 */
final class SimClients {

    static final class Client {
        final int id;
        /** The session id; a new one ("c3.1", "c3.2", ...) after the state machine answers EXPIRED (422). */
        String sessionId;
        int generation;
        long lastSeq;
        Request req;
        int opsDone;
        /** The last value and version this client saw per key (reads, its own writes): what its CASes expect. */
        final Map<String, SimKv.Val> seen = new HashMap<>();

        Client(int id) {
            this.id = id;
            this.sessionId = "c" + id;
        }
    }

    /** One client request (one history operation), sent one or more times. */
    static final class Request {
        final Client client;
        final History.Op op;
        /** The command every attempt carries (null for a read). */
        final byte[] command;
        final int maxAttempts;
        int attempts;
        /** Whether an attempt got a log entry and no definite answer (so it may still apply). */
        boolean maybeApplied;
        /** The attempt in flight, or null while waiting to retry. */
        Attempt attempt;
        long retryAt;
        SimNode lastNode;
        /** The leader a follower named in its "not proposed" answer (a 307): where the retry goes. */
        SimNode redirect;
        /** The entry of the latest appended attempt. */
        Entry lastEntry;

        Request(Client client, History.Op op, byte[] command, int maxAttempts) {
            this.client = client;
            this.op = op;
            this.command = command;
            this.maxAttempts = maxAttempts;
        }
    }

    /** One sending of a request to a node: a proposed entry (writes) or a ReadIndex request (reads). */
    static final class Attempt {
        final Request req;
        final SimNode node;
        final Entry entry;
        final long readId;
        final long since;
        long readIndex = -1;

        Attempt(Request req, SimNode node, Entry entry, long readId, long since) {
            this.req = req;
            this.node = node;
            this.entry = entry;
            this.readId = readId;
            this.since = since;
        }
    }

    private record IndexTerm(long index, long term) {
        static IndexTerm of(Entry e) {
            return new IndexTerm(e.index(), e.term());
        }
    }

    private final Simulation sim;
    private final SimOptions opt;
    private final History history = new History();
    final List<Client> clients = new ArrayList<>();
    /** Appended attempts: entry -> "client#seq"; and the entries of attempts answered "lost". */
    private final Map<IndexTerm, String> appended = new HashMap<>();
    private final Set<IndexTerm> lost = new HashSet<>();
    private long clock;
    private long nextRequestId = 1;
    private int opCounter;

    // Stats.
    long retries;
    long duplicateAnswers;
    long notProposed;
    long lostAnswers;
    long casFailed;
    long expiredAnswers;

    SimClients(Simulation sim, SimOptions opt) {
        this.sim = sim;
        this.opt = opt;
        for (int i = 0; i < opt.clients; i++) {
            clients.add(new Client(i));
        }
    }

    History history() {
        return history;
    }

    Client newClient() {
        Client c = new Client(clients.size());
        clients.add(c);
        return c;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Starting requests

    /** The chaos's client action: an idle client starts a read, or a put, CAS or delete, at a random node. */
    void randomOp(boolean write) {
        List<Client> idle = new ArrayList<>();
        for (Client c : clients) {
            if (c.req == null) {
                idle.add(c);
            }
        }
        if (idle.isEmpty()) {
            return;
        }
        Client c = idle.get(sim.rnd.nextInt(idle.size()));
        SimNode n = pickTarget(null);
        if (n == null) {
            return;
        }
        String key = "k" + sim.rnd.nextInt(opt.keys);
        if (!write) {
            read(c, n, key, opt.maxAttempts);
            return;
        }
        int x = sim.rnd.nextInt(opt.wPut + opt.wCas + opt.wDelete);
        Kind kind = x < opt.wPut ? Kind.WRITE : x < opt.wPut + opt.wCas ? Kind.CAS : Kind.DELETE;
        write(c, n, kind, key, opt.maxAttempts);
    }

    /** Client {@code c} starts a write of {@code kind} to {@code key} at node {@code n}. */
    Request write(Client c, SimNode n, Kind kind, String key, int maxAttempts) {
        long seq = ++c.lastSeq;
        String value = kind == Kind.DELETE ? null : "v" + (++opCounter);
        String expect = null;
        KvCommand cmd;
        if (kind == Kind.WRITE) {
            cmd = KvCommand.put(key, bytes(value));
        } else if (kind == Kind.DELETE) {
            cmd = KvCommand.delete(key);
        } else {
            SimKv.Val seen = c.seen.get(key);
            KvCommand.Condition cond;
            if (seen == null) {
                cond = KvCommand.Condition.absent();
            } else {
                expect = seen.value();
                cond = sim.rnd.nextBoolean() ? KvCommand.Condition.version(seen.version()) : KvCommand.Condition.value(bytes(expect));
                if (sim.rnd.nextInt(4) == 0) {
                    value = null; // a conditional delete
                }
            }
            cmd = value == null ? KvCommand.delete(key, cond) : KvCommand.put(key, bytes(value), cond);
        }
        History.Op op = history.invoke(c.id, kind, key, value, expect, ++clock);
        op.clientId = c.sessionId;
        op.seq = seq;
        Request r = new Request(c, op, cmd.withClient(c.sessionId, seq).encode(), maxAttempts);
        c.req = r;
        if (sim.tracing) {
            sim.trace("client c" + c.id + " invokes " + op);
        }
        send(r, n);
        return r;
    }

    /** Client {@code c} starts a read of {@code key} at node {@code n}; returns the operation. */
    History.Op read(Client c, SimNode n, String key, int maxAttempts) {
        History.Op op = history.invoke(c.id, Kind.READ, key, null, null, ++clock);
        Request r = new Request(c, op, null, maxAttempts);
        c.req = r;
        if (sim.tracing) {
            sim.trace("client c" + c.id + " invokes " + op);
        }
        send(r, n);
        return op;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Sends (or re-sends) request {@code r} to {@code n}. */
    private void send(Request r, SimNode n) {
        r.attempts++;
        r.lastNode = n;
        if (r.attempts > 1) {
            retries++;
        }
        if (r.command == null) {
            sendRead(r, n);
        } else {
            Entry e = n.raft.propose(EntryType.COMMAND, r.command);
            if (e != null && opt.mutation == Mutation.CLAIM_NOT_PROPOSED && sim.rnd.nextInt(3) == 0) {
                e = null; // the bug: appended, but the client is told "not proposed"
            } else if (e != null) {
                appended.put(IndexTerm.of(e), r.op.clientId + "#" + r.op.seq);
            }
            if (e == null) {
                notProposed++;
                if (sim.tracing) {
                    sim.trace("client c" + r.client.id + " attempt " + r.attempts + " of " + r.op + ": not proposed by " + sim.describe(n));
                }
                String leader = n.raft.leader();
                r.redirect = leader == null || leader.equals(n.id) ? null : sim.byId.get(leader);
                retryLater(r); // 503, or a 307 to the leader it names: certainly not applied by this attempt
            } else {
                r.attempt = new Attempt(r, n, e, 0, sim.step);
                r.lastEntry = e;
                n.writes.put(e.index(), r.attempt);
                if (sim.tracing) {
                    sim.trace("client c" + r.client.id + " attempt " + r.attempts + " of " + r.op + " at " + n.id + " as " + e);
                }
            }
        }
        sim.afterInput(n, true);
    }

    private void sendRead(Request r, SimNode n) {
        if (opt.mutation == Mutation.LOCAL_READS) {
            SimKv.Val v = n.kv.get(r.op.key);
            complete(r, v, null);
            return;
        }
        long reqId = nextRequestId++;
        r.attempt = new Attempt(r, n, null, reqId, sim.step);
        n.reads.put(reqId, r.attempt);
        if (sim.tracing) {
            sim.trace("client c" + r.client.id + " attempt " + r.attempts + " of " + r.op + " at " + n.id + " req " + reqId);
        }
        n.raft.readIndex(reqId);
    }

    /**
     * An up member (a server that knows itself part of the cluster: spares not yet added are not among a client's
     * endpoints), usually a leader; another than {@code avoid} if there is one.
     */
    SimNode pickTarget(SimNode avoid) {
        List<SimNode> leaders = new ArrayList<>();
        List<SimNode> up = new ArrayList<>();
        for (SimNode n : sim.nodes) {
            if (n.up && n.raft.configuration().isMember(n.id) && (n != avoid || sim.rnd.nextInt(8) == 0)) {
                up.add(n);
                if (n.raft.role() == Role.LEADER) {
                    leaders.add(n);
                }
            }
        }
        if (up.isEmpty()) {
            return null;
        }
        if (!leaders.isEmpty() && sim.rnd.nextInt(10) != 0) {
            return leaders.get(sim.rnd.nextInt(leaders.size()));
        }
        return up.get(sim.rnd.nextInt(up.size()));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Answers

    /** Node {@code n} applied {@code e} with result {@code r}: answer the attempt that proposed it there, if any. */
    void applied(SimNode n, Entry e, ApplyResult r) {
        Attempt a = n.writes.remove(e.index());
        if (a == null || a.req.attempt != a) {
            return;
        }
        if (!a.entry.equals(e)) {
            // Another leader's entry took the slot: this attempt is certainly not applied (503, safe to retry).
            lostAnswers++;
            lost.add(IndexTerm.of(a.entry));
            a.req.attempt = null;
            if (sim.tracing) {
                sim.trace("client c" + a.req.client.id + " attempt " + a.req.attempts + " of " + a.req.op + " lost to " + e);
            }
            retryLater(a.req);
            return;
        }
        if (r.expired()) {
            // 422: refused without effect (its session is unknown: the request that would have started it was never
            // applied, or it expired); whether an earlier attempt applied cannot be told. As the answer says: give up,
            // continue with a new client id.
            expiredAnswers++;
            Client c = a.req.client;
            a.req.attempt = null;
            giveUp(a.req);
            c.sessionId = "c" + c.id + "." + (++c.generation);
            c.lastSeq = 0;
            if (sim.tracing) {
                sim.trace("client c" + c.id + " got EXPIRED, continues as " + c.sessionId);
            }
            return;
        }
        if (r.duplicate()) {
            duplicateAnswers++;
        }
        complete(a.req, null, r);
    }

    void onReadState(SimNode n, ReadState rs) {
        Attempt a = n.reads.get(rs.requestId());
        if (a == null) {
            return;
        }
        if (rs.failed()) {
            n.reads.remove(rs.requestId());
            unanswered(a);
        } else {
            a.readIndex = rs.readIndex();
        }
    }

    void serveReads(SimNode n) {
        if (n.reads.isEmpty()) {
            return;
        }
        var it = n.reads.values().iterator();
        while (it.hasNext()) {
            Attempt a = it.next();
            if (a.readIndex >= 0 && a.readIndex <= n.applied) {
                it.remove();
                if (a.req.attempt == a) {
                    complete(a.req, n.kv.get(a.req.op.key), null);
                }
            }
        }
    }

    private void complete(Request r, SimKv.Val read, ApplyResult result) {
        History.Op op = r.op;
        Boolean outcome = null;
        Client c = r.client;
        if (op.kind == Kind.READ) {
            remember(c, op.key, read);
        } else if (op.kind == Kind.DELETE) {
            outcome = result.deleted();
            c.seen.remove(op.key);
        } else if (op.kind == Kind.CAS) {
            outcome = result.ok();
            if (!result.ok()) {
                casFailed++;
            }
            remember(c, op.key, result.ok() && op.value != null ? new SimKv.Val(op.value, result.version()) : null);
        } else {
            remember(c, op.key, new SimKv.Val(op.value, result.version()));
        }
        history.complete(op, read == null ? null : read.value(), outcome, ++clock);
        if (sim.tracing) {
            sim.trace("client c" + c.id + " done " + op + (result != null && result.duplicate() ? " (a repeated answer)" : ""));
        }
        r.attempt = null;
        c.req = null;
        c.opsDone++;
    }

    private static void remember(Client c, String key, SimKv.Val v) {
        if (v == null) {
            c.seen.remove(key);
        } else {
            c.seen.put(key, v);
        }
    }

    /** The attempt will get no answer (504 class): its entry may still apply; retry. */
    private void unanswered(Attempt a) {
        Request r = a.req;
        if (r.attempt != a) {
            return;
        }
        r.attempt = null;
        if (a.entry != null) {
            r.maybeApplied = true;
        }
        if (sim.tracing) {
            sim.trace("client c" + r.client.id + " attempt " + r.attempts + " of " + r.op + " at " + a.node.id + ": no answer");
        }
        retryLater(r);
    }

    private void retryLater(Request r) {
        if (r.attempts >= r.maxAttempts) {
            giveUp(r);
        } else {
            r.retryAt = sim.step + 1 + sim.rnd.nextInt(opt.retryDelay);
        }
    }

    /** The client stops trying: a write is "unknown" if an attempt may have applied, else certainly not applied. */
    void giveUp(Request r) {
        if (r == null || r.client.req != r) {
            return;
        }
        Attempt a = r.attempt;
        if (a != null) {
            withdraw(a);
            if (a.entry != null) {
                r.maybeApplied = true;
            }
        }
        if (r.op.write() && !r.maybeApplied) {
            history.fail(r.op);
        } else {
            history.abandon(r.op);
        }
        if (sim.tracing) {
            sim.trace("client c" + r.client.id + " gives up " + r.op);
        }
        r.attempt = null;
        r.client.req = null;
    }

    private static void withdraw(Attempt a) {
        if (a.entry != null) {
            a.node.writes.remove(a.entry.index(), a);
        } else {
            a.node.reads.remove(a.readId, a);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Time, crashes, snapshots

    /**
     * Every chaos step: attempts that timed out, or whose node's term moved on (it saw a leader change), get no
     * answer; requests due for a retry are re-sent.
     */
    void tick() {
        for (Client c : clients) {
            Request r = c.req;
            if (r == null) {
                continue;
            }
            Attempt a = r.attempt;
            if (a != null) {
                // A client notices a leader change at its node only now and then (a real one: by a short timeout);
                // until it does, the attempt may still be answered, by the node applying its entry or another.
                boolean leaderChange = a.entry != null && a.node.up && a.node.raft.term() != a.entry.term() && sim.rnd.nextInt(20) == 0;
                if (sim.step - a.since > opt.opTimeout || leaderChange) {
                    withdraw(a);
                    unanswered(a);
                }
            } else if (sim.step >= r.retryAt || (r.redirect != null && r.redirect.up)) {
                SimNode n = r.redirect != null && r.redirect.up ? r.redirect : pickTarget(r.lastNode);
                r.redirect = null;
                if (n == null) {
                    r.retryAt = sim.step + opt.retryDelay;
                } else {
                    send(r, n);
                }
            }
        }
    }

    /** Node {@code n} crashed: its clients' connections break (no answer). */
    void crashed(SimNode n) {
        List<Attempt> gone = new ArrayList<>(n.writes.values());
        gone.addAll(n.reads.values());
        n.writes.clear();
        n.reads.clear();
        for (Attempt a : gone) {
            unanswered(a);
        }
    }

    /** Node {@code n} installed a snapshot through {@code index}: writes it proposed up to there get no answer. */
    void snapshotInstalled(SimNode n, long index) {
        List<Attempt> gone = new ArrayList<>(n.writes.headMap(index, true).values());
        n.writes.headMap(index, true).clear();
        for (Attempt a : gone) {
            unanswered(a);
        }
    }

    /** End of the run: every client gives up what it has in flight. */
    void giveUpAll() {
        for (Client c : clients) {
            giveUp(c.req);
        }
    }

    /** A session write a targeted test proposed itself was appended as {@code e}. */
    void appendedOutside(Entry e) {
        KvCommand cmd = KvCommand.decode(e.data());
        if (cmd.clientId() != null) {
            appended.put(IndexTerm.of(e), cmd.clientId() + "#" + cmd.sequence());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Checks

    /**
     * The 503 contract and at-most-once, over the whole run: every committed session entry is the entry of an attempt
     * of that request that the node appended (not one it answered "not proposed") and did not answer "lost"; and no
     * replica applied a request that got the 503 class on every attempt.
     */
    void checkRequests(List<Entry> committed) {
        for (Entry e : committed) {
            if (e.type() != EntryType.COMMAND) {
                continue;
            }
            KvCommand cmd = KvCommand.decode(e.data());
            if (cmd.clientId() == null) {
                continue;
            }
            String tag = cmd.clientId() + "#" + cmd.sequence();
            String attempt = appended.get(IndexTerm.of(e));
            if (!tag.equals(attempt)) {
                throw new SafetyViolation("503 contract violated: committed " + e + " carries request " + tag
                        + " but no attempt of it was appended as that entry (it was answered 'not proposed')");
            }
            if (lost.contains(IndexTerm.of(e))) {
                throw new SafetyViolation("503 contract violated: committed " + e + " of request " + tag + " was answered 'lost'");
            }
        }
        for (History.Op op : history.ops()) {
            if (op.write() && op.status == History.Status.FAILED && op.clientId != null) {
                for (SimNode n : sim.nodes) {
                    if (n.kv.applications(op.clientId, op.seq) > 0) {
                        throw new SafetyViolation("503 contract violated: " + n.id + " applied " + op
                                + ", which got 'not proposed' or 'lost' on every attempt");
                    }
                }
            }
        }
    }
}
