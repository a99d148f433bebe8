package io.raftkv.raft.tracker;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.quorum.MajorityQuorum;
import io.raftkv.raft.quorum.VoteResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * What a node tracks about the members of its current configuration: the configuration itself, the votes of the
 * current election, and (on the leader) a {@link Progress} per member, voters and learners. Every quorum question goes
 * through the voters' {@link MajorityQuorum}: a learner is replicated to but counts for nothing, and a leader that is
 * removing itself is not among the voters, so it does not count itself either (dissertation 4.2.2).
 */
public final class ProgressTracker {

    private final String self;
    private final int maxInflight;
    private final long maxInflightBytes;
    private Configuration config;
    private MajorityQuorum quorum;
    private final Map<String, Progress> progress = new LinkedHashMap<>();
    private final Map<String, Boolean> votes = new LinkedHashMap<>();

    public ProgressTracker(String self, Configuration config, int maxInflight, long maxInflightBytes) {
        this.self = self;
        this.maxInflight = maxInflight;
        this.maxInflightBytes = maxInflightBytes;
        setConfig(config);
    }

    public Configuration config() {
        return config;
    }

    /** This node may campaign and vote for itself: it is a voter of its configuration. */
    public boolean selfIsVoter() {
        return config.isVoter(self);
    }

    /** This node is the configuration's only voter: it decides alone. */
    public boolean selfIsSoleVoter() {
        return config.voters().size() == 1 && config.isVoter(self);
    }

    /**
     * Switches to {@code next}. A leader keeps the progress of members that stay, starts tracking new members from
     * {@code nextIndex} (probing back from there) and forgets removed ones.
     */
    public void setConfig(Configuration next) {
        config = next;
        quorum = new MajorityQuorum(next.voters());
        if (!progress.isEmpty()) {
            progress.keySet().removeIf(id -> !next.isMember(id));
        }
    }

    /** A new leader: fresh progress for every member, nextIndex just past its log, its own at its persisted end. */
    public void resetProgress(long nextIndex, long selfStableLastIndex) {
        progress.clear();
        for (String id : config.members()) {
            progress.put(id, new Progress(nextIndex, maxInflight, maxInflightBytes));
        }
        Progress me = progress.get(self);
        if (me != null) {
            me.becomeSelf(selfStableLastIndex);
        }
    }

    /** On a leader: starts tracking members of the configuration it has no progress for (just added). */
    public void trackNewMembers(long nextIndex) {
        for (String id : config.members()) {
            progress.computeIfAbsent(id, k -> new Progress(nextIndex, maxInflight, maxInflightBytes));
        }
    }

    public void clearProgress() {
        progress.clear();
    }

    /** The leader's progress for {@code id}, or null if it is not a member (or this node is not leading). */
    public Progress progress(String id) {
        return progress.get(id);
    }

    /** Every member but this node, in configuration order: whom the leader replicates to. */
    public List<String> peers() {
        return config.members().stream().filter(id -> !id.equals(self)).toList();
    }

    /** The voters other than this node: whom a candidate asks for votes. */
    public List<String> otherVoters() {
        return config.voters().stream().filter(id -> !id.equals(self)).toList();
    }

    public void forEachProgress(BiConsumer<String, Progress> visitor) {
        progress.forEach(visitor);
    }

    /** The highest index a majority of the voters has stored. */
    public long committedIndex() {
        return quorum.committedIndex(id -> {
            Progress pr = progress.get(id);
            return pr == null ? 0 : pr.matchIndex();
        });
    }

    /** CheckQuorum: a majority of the voters (this node counting if it is one) was heard from this round. */
    public boolean quorumActive() {
        return quorum.hasQuorum(id -> {
            Progress pr = progress.get(id);
            return id.equals(self) || (pr != null && pr.recentActive());
        });
    }

    /** Starts a CheckQuorum round: only this node counts as heard from. */
    public void resetRecentActive() {
        progress.forEach((id, pr) -> pr.setRecentActive(id.equals(self)));
    }

    /** ReadIndex: a majority of the voters (this node counting if it is one) acknowledged round {@code context}. */
    public boolean readQuorumAcked(long context) {
        return quorum.hasQuorum(id -> {
            Progress pr = progress.get(id);
            return id.equals(self) || (pr != null && pr.readAck() >= context);
        });
    }

    /** Records a vote (the first from each server counts) and tallies the election among the voters. */
    public VoteResult recordVote(String from, boolean granted) {
        votes.putIfAbsent(from, granted);
        return quorum.voteResult(votes);
    }

    public void resetVotes() {
        votes.clear();
    }
}
