package io.raftkv.raft;

import static io.raftkv.raft.MessageType.APPEND;
import static io.raftkv.raft.MessageType.APPEND_RESPONSE;
import static io.raftkv.raft.MessageType.HEARTBEAT;
import static io.raftkv.raft.MessageType.HEARTBEAT_RESPONSE;
import static io.raftkv.raft.MessageType.PRE_VOTE;
import static io.raftkv.raft.MessageType.PRE_VOTE_RESPONSE;
import static io.raftkv.raft.MessageType.SNAPSHOT;
import static io.raftkv.raft.MessageType.TIMEOUT_NOW;
import static io.raftkv.raft.MessageType.VOTE;
import static io.raftkv.raft.MessageType.VOTE_RESPONSE;

import io.raftkv.raft.confchange.Changer;
import io.raftkv.raft.confchange.ConfChangeRefusedException;
import io.raftkv.raft.quorum.VoteResult;
import io.raftkv.raft.tracker.Progress;
import io.raftkv.raft.tracker.ProgressTracker;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Raft consensus algorithm for one node, as a deterministic state machine: no threads, no clock, no I/O. The
 * runtime feeds it {@link #tick()}s, peer {@link #step(Message)}s, {@link #propose} calls and {@link #readIndex}
 * requests, then collects a {@link Ready}, carries it out (persist, send, apply) and calls {@link #advance(Ready)}.
 * <p>
 * Each role has its own step function ({@link #stepFollower}, {@link #stepCandidate}, {@link #stepLeader}); rules that
 * hold in every role (term comparison, voting) live in {@link #step(Message)}. Sections below: elections, log
 * replication, commit, membership, ReadIndex, Ready hand-off. What a leader's AppendEntries, snapshots and heartbeats
 * hold is the {@link Replicator}'s business (this class decides when they go out), and what each Ready carries is the
 * {@link ReadyHandOff}'s.
 * <p>
 * Membership (dissertation chapter 4) changes one server at a time through CONFIG entries
 * ({@link #proposeConfChange}). A configuration is in effect from the moment its entry is appended; the
 * {@link ProgressTracker} answers every quorum question for the current one.
 */
public final class Raft {

    @FunctionalInterface
    private interface StepFunction {
        void step(Message m);
    }

    /** Marks a RequestVote sent on a leader's TIMEOUT_NOW: voters let it through their CheckQuorum lease. */
    static final long TRANSFER_CAMPAIGN = 1;

    private final RaftConfig config;
    private final String id;
    /** The log, with the newest snapshot this node holds (what it sends a follower behind its log's start). */
    private final RaftLog log;
    /** The current configuration, the votes of this election and, on the leader, the progress of every member. */
    private final ProgressTracker tracker;

    // Persistent state (Raft paper figure 2), written through Ready.hardState before anything depends on it.
    private long term;
    private String votedFor;

    // Volatile state.
    private Role role;
    private String leader;
    private StepFunction step;
    private int electionElapsed;
    private int heartbeatElapsed;
    private int randomizedElectionTimeout;
    private boolean appendPending;
    /** Leader only: the follower leadership is being handed to, or null. */
    private String leadTransferee;
    private boolean skipOwnTermRule; // mutation tests only: see disableOwnTermRuleForTesting
    private boolean skipCurrentTermCommitRule; // mutation tests only: see disableCurrentTermCommitRuleForTesting

    // ReadIndex (dissertation 6.4).
    private final ReadIndexQueue reads = new ReadIndexQueue();

    private final ReadyHandOff handOff;
    /** The leader's AppendEntries, snapshots and heartbeats. */
    private final Replicator replicator;

    public Raft(RaftConfig config, LogStorage storage) {
        this(config, storage, SnapshotMeta.NONE);
    }

    /**
     * A node whose newest snapshot is {@code snapshot} ({@link SnapshotMeta#NONE} if none). The state machine must be
     * at least at the log's start ({@code config.applied() >= storage.firstIndex() - 1}), and the snapshot must cover
     * the log's start, so that any follower the log cannot serve can be sent the snapshot. The configuration is the
     * snapshot's, then that of any CONFIG entry stored after it; {@code config.voters()} only if neither exists.
     */
    public Raft(RaftConfig config, LogStorage storage, SnapshotMeta snapshot) {
        this.config = config;
        this.id = config.id();
        this.log = new RaftLog(storage, config.applied(), snapshot, Configuration.ofVoters(config.voters()));
        this.tracker = new ProgressTracker(id, log.configuration(), config.maxInflight(), config.maxInflightBytes());
        HardState hs = storage.hardState();
        if (hs.commit() > storage.lastIndex()) {
            throw new IllegalStateException("stored commit index " + hs.commit() + " is beyond the stored log (last " + storage.lastIndex() + ")");
        }
        this.term = hs.term();
        this.votedFor = hs.votedFor();
        becomeFollower(term, null);
        this.handOff = new ReadyHandOff(log, reads, config.maxApplyBytes(), softState(), hardState());
        this.replicator = new Replicator(id, log, tracker, config.maxMsgBytes(), handOff);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Inputs

    /** Advances logical time by one tick. */
    public void tick() {
        if (role == Role.LEADER) {
            tickLeader();
        } else {
            tickElection();
        }
    }

    /**
     * Appends a command to the leader's log. Returns the new entry (its index and term identify it: if the entry at
     * that index is later applied with another term, the command was lost and must be retried), or null when this
     * node is not the leader.
     */
    public Entry propose(EntryType type, byte[] data) {
        if (type == EntryType.CONFIG) {
            throw new IllegalArgumentException("membership changes go through proposeConfChange");
        }
        if (role != Role.LEADER || leadTransferee != null) {
            return null; // not the leader, or handing leadership over: the client retries at the next leader
        }
        Entry e = new Entry(term, log.lastIndex() + 1, type, data);
        log.append(List.of(e));
        appendPending = true;
        return e;
    }

    /**
     * Appends a single-server membership change to the leader's log; it takes effect here at once (and on each
     * follower as it appends the entry). Returns the entry, or null when this node is not the leader. Throws
     * {@link ConfChangeRefusedException} when the change must wait (an earlier change is uncommitted; no entry of this
     * leader's term is committed yet, so an earlier leader's change may be unknown to it; a leadership transfer is
     * under way) or does not apply to the current configuration.
     */
    public Entry proposeConfChange(ConfChange change) {
        if (role != Role.LEADER) {
            return null;
        }
        Configuration next = Changer.admit(tracker.config(), change, log.configs.lastChangeIndex(), log.committed,
                skipOwnTermRule || log.term(log.committed) == term, leadTransferee);
        Entry e = new Entry(term, log.lastIndex() + 1, EntryType.CONFIG, new ConfigEntry(change, next).encode());
        log.append(List.of(e));
        appendPending = true;
        configurationAppended();
        return e;
    }

    /**
     * Lets a leader commit an entry of an earlier term once a quorum stores it (the rule of paper 5.4.2 lifted: the
     * Figure 8 bug), for the mutation tests only: never call it elsewhere.
     */
    public void disableCurrentTermCommitRuleForTesting() {
        skipCurrentTermCommitRule = true;
    }

    /** Lifts the own-term rule of {@link #proposeConfChange}, for the mutation tests only: never call it elsewhere. */
    public void disableOwnTermRuleForTesting() {
        skipOwnTermRule = true;
    }

    /**
     * Starts a linearizable read. Its {@link ReadState} comes out in a later Ready: serve the read once the state
     * machine has applied its index. Fails at once (ReadState index -1) if this node is not the leader.
     */
    public void readIndex(long requestId) {
        if (role != Role.LEADER) {
            reads.fail(requestId);
        } else if (log.term(log.committed) != term) {
            reads.awaitCommit(requestId); // the commit index is known once an entry of this term commits
        } else {
            reads.start(requestId, log.committed, tracker.selfIsSoleVoter());
        }
    }

    /**
     * Handles a message from another server. Messages to someone else are dropped. The sender's membership is not
     * consulted (dissertation 4.1): a server may be a member in a configuration this node has not appended yet. What
     * a sender may achieve is bounded by quorums, which only ever count the current configuration's voters.
     */
    public void step(Message m) {
        if (!id.equals(m.to()) || m.from().equals(id)) {
            return;
        }
        if (m.term() > term) {
            boolean transfer = m.type() == VOTE && m.context() == TRANSFER_CAMPAIGN;
            if ((m.type() == VOTE || m.type() == PRE_VOTE) && inLease() && !transfer) {
                // We hear from a live leader: a vote request now comes from a disruptive node. Ignore it.
                return;
            }
            if (m.type() == PRE_VOTE || (m.type() == PRE_VOTE_RESPONSE && !m.reject())) {
                // PreVote traffic carries a future term and changes no one's term.
            } else {
                boolean fromLeader = m.type() == APPEND || m.type() == HEARTBEAT;
                becomeFollower(m.term(), fromLeader ? m.from() : null);
            }
        } else if (m.term() < term) {
            if ((config.checkQuorum() || config.preVote()) && (m.type() == APPEND || m.type() == HEARTBEAT)) {
                // A deposed leader that cannot learn our term otherwise (its peers ignore its stale messages and,
                // with PreVote, never raise their terms at it): answer so it steps down.
                send(Message.builder(APPEND_RESPONSE, id, m.from(), term));
            } else if (m.type() == PRE_VOTE) {
                send(Message.builder(PRE_VOTE_RESPONSE, id, m.from(), term).reject(true));
            }
            return;
        }
        if (m.type() == VOTE || m.type() == PRE_VOTE) {
            handleVoteRequest(m);
        } else {
            step.step(m);
            configurationAppended(); // an append or a snapshot may have brought a new configuration, or truncated one
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Roles

    private void becomeFollower(long newTerm, String newLeader) {
        reset(newTerm);
        role = Role.FOLLOWER;
        step = this::stepFollower;
        leader = newLeader;
    }

    private void becomePreCandidate() {
        // Neither term nor vote change: a PreVote round that fails leaves no trace.
        role = Role.PRE_CANDIDATE;
        step = this::stepCandidate;
        leader = null;
        tracker.resetVotes();
        resetRandomizedElectionTimeout();
    }

    private void becomeCandidate() {
        reset(term + 1);
        votedFor = id;
        role = Role.CANDIDATE;
        step = this::stepCandidate;
    }

    private void becomeLeader() {
        reset(term);
        role = Role.LEADER;
        step = this::stepLeader;
        leader = id;
        long next = log.lastIndex() + 1;
        tracker.resetProgress(next, log.stableLastIndex());
        // A no-op of the new term lets the leader commit (and so learn the commit index) without waiting for a client.
        log.append(List.of(Entry.noop(term, next)));
        appendPending = true;
    }

    private void reset(long newTerm) {
        if (newTerm != term) {
            term = newTerm;
            votedFor = null;
        }
        leader = null;
        electionElapsed = 0;
        heartbeatElapsed = 0;
        resetRandomizedElectionTimeout();
        tracker.resetVotes();
        tracker.clearProgress();
        appendPending = false;
        leadTransferee = null;
        reads.failAll();
    }

    private void resetRandomizedElectionTimeout() {
        randomizedElectionTimeout = config.electionTick() + config.random().nextInt(config.electionTick());
    }

    private void stepFollower(Message m) {
        switch (m.type()) {
            case APPEND -> {
                electionElapsed = 0;
                leader = m.from();
                handleAppend(m);
            }
            case HEARTBEAT -> {
                electionElapsed = 0;
                leader = m.from();
                handleHeartbeat(m);
            }
            case SNAPSHOT -> {
                electionElapsed = 0;
                leader = m.from();
                handleSnapshot(m);
            }
            case TIMEOUT_NOW -> {
                // Our leader hands over: campaign at once, without PreVote (the leader vouches for our log).
                if (m.from().equals(leader) && promotable()) {
                    campaign(false, true);
                }
            }
            default -> {
                // Responses addressed to a former role: nothing to do.
            }
        }
    }

    private void stepCandidate(Message m) {
        switch (m.type()) {
            case APPEND -> {
                becomeFollower(m.term(), m.from());
                handleAppend(m);
            }
            case HEARTBEAT -> {
                becomeFollower(m.term(), m.from());
                handleHeartbeat(m);
            }
            case SNAPSHOT -> {
                becomeFollower(m.term(), m.from());
                handleSnapshot(m);
            }
            case VOTE_RESPONSE, PRE_VOTE_RESPONSE -> {
                MessageType expected = role == Role.PRE_CANDIDATE ? PRE_VOTE_RESPONSE : VOTE_RESPONSE;
                if (m.type() != expected) {
                    return;
                }
                switch (tracker.recordVote(m.from(), !m.reject())) {
                    case WON -> {
                        if (role == Role.PRE_CANDIDATE) {
                            campaign(false, false);
                        } else {
                            becomeLeader();
                        }
                    }
                    case LOST -> becomeFollower(term, null);
                    case PENDING -> {
                    }
                }
            }
            default -> {
            }
        }
    }

    private void stepLeader(Message m) {
        switch (m.type()) {
            case APPEND_RESPONSE -> handleAppendResponse(m);
            case HEARTBEAT_RESPONSE -> handleHeartbeatResponse(m);
            default -> {
                // Vote responses from our election, or another node's messages for this term: nothing to do.
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Elections

    private void tickElection() {
        electionElapsed++;
        if (electionElapsed >= randomizedElectionTimeout && promotable()) {
            electionElapsed = 0;
            campaign(config.preVote(), false);
        }
    }

    /**
     * Whether this node may campaign: it is a voter of its configuration (learners and joining servers never are),
     * or its removal is not known to be committed. The latter matters when a leader that removes itself loses
     * leadership before the removal commits: voters that lack the removal entry still need its vote, and it refuses
     * them for their shorter logs, so it must be able to win (counting only the new voters) and commit the removal.
     */
    private boolean promotable() {
        long change = log.configs.lastChangeIndex();
        return tracker.selfIsVoter() || (change > log.committed && log.configs.at(change - 1).isVoter(id));
    }

    /** A leader was heard from within the election timeout (only meaningful with CheckQuorum). */
    private boolean inLease() {
        return config.checkQuorum() && leader != null && electionElapsed < config.electionTick();
    }

    private void campaign(boolean preVote, boolean transfer) {
        MessageType type;
        long voteTerm;
        if (preVote) {
            becomePreCandidate();
            type = PRE_VOTE;
            voteTerm = term + 1;
        } else {
            becomeCandidate();
            type = VOTE;
            voteTerm = term;
        }
        if (tracker.recordVote(id, true) == VoteResult.WON) {
            // A single-node cluster.
            if (preVote) {
                campaign(false, false);
            } else {
                becomeLeader();
            }
            return;
        }
        long lastIndex = log.lastIndex();
        long lastTerm = log.lastTerm();
        for (String voter : tracker.otherVoters()) {
            send(Message.builder(type, id, voter, voteTerm).index(lastIndex).logTerm(lastTerm)
                    .context(transfer ? TRANSFER_CAMPAIGN : 0));
        }
    }

    private void handleVoteRequest(Message m) {
        boolean preVote = m.type() == PRE_VOTE;
        MessageType responseType = preVote ? PRE_VOTE_RESPONSE : VOTE_RESPONSE;
        boolean canVote = Objects.equals(votedFor, m.from())
                || (votedFor == null && leader == null)
                || (preVote && m.term() > term);
        if (canVote && log.isUpToDate(m.index(), m.logTerm())) {
            // A granted PreVote answers with the term asked for, so the pre-candidate can tell it from stale ones.
            send(Message.builder(responseType, id, m.from(), m.term()));
            if (!preVote) {
                electionElapsed = 0;
                votedFor = m.from(); // persisted (Ready.hardState) before the response is sent
            }
        } else {
            send(Message.builder(responseType, id, m.from(), term).reject(true));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Log replication: follower side

    private void handleAppend(Message m) {
        if (m.index() < log.committed) {
            send(Message.builder(APPEND_RESPONSE, id, m.from(), term).index(log.committed));
            return;
        }
        long lastNew = log.maybeAppend(m.index(), m.logTerm(), m.commit(), m.entries());
        if (lastNew >= 0) {
            send(Message.builder(APPEND_RESPONSE, id, m.from(), term).index(lastNew));
            return;
        }
        // Consistency check failed. Hint where our log diverges so the leader skips a whole term per round trip.
        long[] hint = log.conflictHint(m.index());
        send(Message.builder(APPEND_RESPONSE, id, m.from(), term).index(m.index()).reject(true).hint(hint[0], hint[1]));
    }

    /**
     * InstallSnapshot (paper section 7): the runtime has received and verified the snapshot's data. If the log already
     * holds the snapshot's last entry, only the commit index moves; otherwise the log is replaced by the snapshot and
     * the next Ready asks the runtime to install it, before the answer goes out.
     */
    private void handleSnapshot(Message m) {
        // A sender that does not say (an older runtime) predates membership changes: the configuration stands.
        Configuration c = m.configuration() != null ? m.configuration() : log.configuration();
        SnapshotMeta s = new SnapshotMeta(m.index(), m.logTerm(), c);
        if (s.index() <= log.committed) {
            send(Message.builder(APPEND_RESPONSE, id, m.from(), term).index(log.committed));
            return;
        }
        if (log.matchTerm(s.index(), s.term())) {
            log.commitTo(s.index());
        } else {
            log.restore(s);
        }
        send(Message.builder(APPEND_RESPONSE, id, m.from(), term).index(s.index()));
    }

    private void handleHeartbeat(Message m) {
        // The leader sends min(matchIndex, commit), so everything up to it matches the leader's log.
        log.commitTo(Math.min(m.commit(), log.lastIndex()));
        // The log's end (index, term), sent after this Ready is persisted: if its term is the leader's, Log Matching
        // makes it an acknowledgement of everything up to it (see handleHeartbeatResponse).
        send(Message.builder(HEARTBEAT_RESPONSE, id, m.from(), term).context(m.context()).index(log.lastIndex())
                .logTerm(log.lastTerm()));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Log replication: leader side

    private void tickLeader() {
        heartbeatElapsed++;
        electionElapsed++;
        if (electionElapsed >= config.electionTick()) {
            electionElapsed = 0;
            leadTransferee = null; // a transfer gets one election timeout; then this leader serves again
            if (config.checkQuorum()) {
                if (!tracker.quorumActive()) {
                    // Cut off from a majority: stop acting as leader (no client is served by a stale leader).
                    becomeFollower(term, null);
                    return;
                }
                tracker.resetRecentActive();
            }
        }
        if (heartbeatElapsed >= config.heartbeatTick()) {
            heartbeatElapsed = 0;
            replicator.broadcastHeartbeat(term, reads.context());
        }
    }

    private void handleAppendResponse(Message m) {
        Progress pr = tracker.progress(m.from());
        if (pr == null) {
            return; // not a member (any more)
        }
        pr.setRecentActive(true);
        if (m.reject()) {
            long next = log.nextIndexFromHint(m.index(), m.hintIndex(), m.hintTerm());
            if (pr.maybeDecrTo(m.index(), next)) {
                replicator.sendAppend(m.from(), term, true);
            }
            return;
        }
        if (pr.appendAccepted(m.index())) {
            // Followers learn a new commit index from the next AppendEntries or heartbeat (at most a heartbeat
            // interval later) rather than from an extra message per commit: on the write path, that message would
            // queue ahead of the next AppendEntries on each peer's connection.
            maybeCommit();
        }
        while (role == Role.LEADER && replicator.sendAppend(m.from(), term, false)) {
            // fill the pipeline
        }
        if (m.from().equals(leadTransferee) && pr.matchIndex() == log.lastIndex()) {
            send(Message.builder(TIMEOUT_NOW, id, m.from(), term));
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Leadership transfer (thesis 3.10)

    /**
     * Hands leadership to {@code target}: stop taking proposals, bring its log up to date, then tell it to campaign
     * at once. Returns false if this node is not the leader or {@code target} is not another voter. If the target has
     * not taken over within an election timeout, this node resumes as leader.
     */
    public boolean transferLeadership(String target) {
        if (role != Role.LEADER || target == null || target.equals(id) || !tracker.config().isVoter(target)) {
            return false;
        }
        leadTransferee = target;
        electionElapsed = 0;
        Progress pr = tracker.progress(target);
        if (pr.matchIndex() == log.lastIndex()) {
            send(Message.builder(TIMEOUT_NOW, id, target, term));
        } else {
            replicator.sendAppend(target, term, true);
        }
        return true;
    }

    /** The follower leadership is being handed to, or null. */
    public String leadTransferee() {
        return leadTransferee;
    }

    private void handleHeartbeatResponse(Message m) {
        Progress pr = tracker.progress(m.from());
        if (pr == null) {
            return;
        }
        pr.setRecentActive(true);
        if (m.logTerm() == term && m.index() > pr.matchIndex() && pr.state() != Progress.State.SNAPSHOT) {
            // Its log ends with an entry of this term, which only this leader appends: by Log Matching it holds this
            // log up to there, durably. A slow follower's late acknowledgement, or a lost one, needs no re-send.
            if (pr.appendAccepted(Math.min(m.index(), log.lastIndex()))) {
                maybeCommit();
            }
        }
        if (role == Role.LEADER && pr.matchIndex() < log.lastIndex()) {
            pr.heartbeatWhileBehind(); // may detect a lost append and fall back to probing
            replicator.sendAppend(m.from(), term, pr.state() == Progress.State.PROBE);
        }
        if (pr.ackRead(m.context())) {
            reads.confirm(tracker::readQuorumAcked);
        }
    }

    /**
     * The runtime finished sending a snapshot to {@code to}: {@code delivered} if the follower received all of it
     * (its APPEND_RESPONSE then moves replication on), false if the transfer failed. Either way the follower is
     * probed again after the next heartbeat round; a failed one is sent a snapshot again if it still needs one.
     */
    public void reportSnapshot(String to, boolean delivered) {
        if (role == Role.LEADER) {
            replicator.snapshotReported(to, delivered);
        }
    }

    /**
     * The point to snapshot the state machine at once it has applied {@code index}: its term and the configuration in
     * effect there, for the snapshot to record ({@code index} between the newest snapshot's and lastApplied). Null
     * while a snapshot from the leader awaits its install (no snapshot may be taken then).
     */
    public SnapshotMeta snapshotPoint(long index) {
        return log.snapshotPoint(index);
    }

    /**
     * The runtime has taken a snapshot of the state machine at {@code s} (an applied index). It may now compact the
     * log up to {@code s.index()}; followers behind the log's start are sent this snapshot. Returns false (and the
     * runtime must not compact for it) while a snapshot received from the leader awaits its install. The snapshot's
     * configuration, if not given, is filled in from the log's.
     */
    public boolean snapshotTaken(SnapshotMeta s) {
        return log.snapshotTaken(s);
    }

    /** The newest snapshot this node holds (taken or installed), with its configuration. */
    public SnapshotMeta snapshot() {
        return log.snapshot();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Commit

    /**
     * Advances commitIndex to the highest index stored on a quorum of the current configuration's voters, but only if
     * that entry is of the current term (paper 5.4.2): older entries are committed indirectly. A leader that has
     * removed itself steps down once that removal is committed (dissertation 4.2.2).
     */
    private boolean maybeCommit() {
        long quorumMatch = tracker.committedIndex();
        if (quorumMatch > log.committed && (log.term(quorumMatch) == term || skipCurrentTermCommitRule)) {
            log.commitTo(quorumMatch);
            reads.releaseAwaitingCommit(log.committed, tracker.selfIsSoleVoter());
            if (!tracker.selfIsVoter() && log.configs.lastChangeIndex() <= log.committed) {
                becomeFollower(term, null);
            }
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Membership

    /**
     * Entries were appended or a snapshot restored: if that changed the configuration (a CONFIG entry appended, or
     * truncated away), switch to it now. A leader starts replicating to new members, stops with removed ones, and
     * may commit at once when the voters shrink.
     */
    private void configurationAppended() {
        Configuration c = log.configuration();
        if (c.equals(tracker.config())) {
            return;
        }
        tracker.setConfig(c);
        if (role == Role.LEADER) {
            tracker.trackNewMembers(log.lastIndex() + 1);
            if (leadTransferee != null && !c.isVoter(leadTransferee)) {
                leadTransferee = null;
            }
            maybeCommit();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Ready hand-off

    private void send(Message.Builder b) {
        handOff.send(b.build());
    }

    private Ready.SoftState softState() {
        return new Ready.SoftState(role, leader, term);
    }

    private HardState hardState() {
        return new HardState(term, votedFor, log.committed);
    }

    /** Sends what inputs since the last Ready have batched up: appends for new proposals, read confirmations. */
    private void flush() {
        if (role == Role.LEADER) {
            if (appendPending) {
                replicator.broadcastAppend(term, false);
            }
        }
        if (reads.takeRoundPending() && role == Role.LEADER) {
            replicator.broadcastHeartbeat(term, reads.context()); // one round confirms every read registered since the last Ready
        }
        appendPending = false;
    }

    public boolean hasReady() {
        flush();
        return handOff.hasReady(softState(), hardState());
    }

    /** Collects everything the runtime must do now. Call {@link #advance} when done, before stepping again. */
    public Ready ready() {
        flush();
        return handOff.take(softState(), hardState());
    }

    /** The runtime has persisted, sent and applied what {@code rd} asked. */
    public void advance(Ready rd) {
        handOff.advanced(rd);
        if (rd.snapshot() != null) {
            log.snapshotInstalled(rd.snapshot());
        }
        if (!rd.entries().isEmpty()) {
            Entry last = rd.entries().get(rd.entries().size() - 1);
            log.stableTo(last.index(), last.term());
            Progress self = tracker.progress(id);
            if (role == Role.LEADER && self != null && self.maybeUpdate(log.stableLastIndex())) {
                maybeCommit();
            }
        }
        if (!rd.committedEntries().isEmpty()) {
            log.appliedTo(rd.committedEntries().get(rd.committedEntries().size() - 1).index());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Introspection

    public String id() { return id; }
    public Role role() { return role; }
    public long term() { return term; }
    public String leader() { return leader; }
    public String votedFor() { return votedFor; }
    public long commitIndex() { return log.committed; }
    public long lastApplied() { return log.applied; }
    public long lastIndex() { return log.lastIndex(); }
    /** The configuration in effect here: that of the last CONFIG entry in the log, else the snapshot's or bootstrap. */
    public Configuration configuration() { return tracker.config(); }
    /** A CONFIG entry in this node's log is not committed yet (a leader then accepts no further change). */
    public boolean configChangePending() { return log.configs.lastChangeIndex() > log.committed; }

    public RaftStatus status() {
        Map<String, RaftStatus.PeerProgress> peerProgress = new LinkedHashMap<>();
        if (role == Role.LEADER) {
            for (String peer : tracker.peers()) {
                Progress pr = tracker.progress(peer);
                peerProgress.put(peer, new RaftStatus.PeerProgress(pr.matchIndex(), pr.nextIndex(), pr.state().name(), pr.recentActive()));
            }
        }
        return new RaftStatus(id, role, term, votedFor, leader, log.committed, log.applied, log.firstIndex(),
                log.lastIndex(), log.lastTerm(), peerProgress, tracker.config(), role == Role.LEADER && configChangePending());
    }
}
