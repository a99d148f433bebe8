package io.raftkv.raft.quorum;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * Majority decisions over one voter set: what a quorum has stored, how an election stands, whether a quorum has
 * answered. Only the listed voters count: learners and servers outside the configuration are never part of a quorum,
 * whatever they send.
 */
public final class MajorityQuorum {

    private final List<String> voters;

    public MajorityQuorum(List<String> voters) {
        this.voters = List.copyOf(voters);
    }

    /** How many voters make a majority. */
    public int size() {
        return voters.size() / 2 + 1;
    }

    /**
     * The highest index stored on a majority of the voters (the candidate commit index): the largest i such that a
     * majority has matchIndex &gt;= i. 0 when there are no voters.
     */
    public long committedIndex(ToLongFunction<String> matchIndex) {
        if (voters.isEmpty()) {
            return 0;
        }
        long[] matches = new long[voters.size()];
        for (int i = 0; i < matches.length; i++) {
            matches[i] = matchIndex.applyAsLong(voters.get(i));
        }
        Arrays.sort(matches);
        return matches[matches.length - size()];
    }

    /** The outcome of an election given the votes received so far (absent voters have not answered). */
    public VoteResult voteResult(Map<String, Boolean> votes) {
        int yes = 0;
        int no = 0;
        for (String v : voters) {
            Boolean granted = votes.get(v);
            if (granted == null) {
                continue;
            }
            if (granted) {
                yes++;
            } else {
                no++;
            }
        }
        if (!voters.isEmpty() && yes >= size()) {
            return VoteResult.WON;
        }
        if (no > voters.size() - size() || voters.isEmpty()) {
            return VoteResult.LOST;
        }
        return VoteResult.PENDING;
    }

    /** Whether a majority of the voters satisfy {@code acked}. */
    public boolean hasQuorum(Predicate<String> acked) {
        int n = 0;
        for (String v : voters) {
            if (acked.test(v)) {
                n++;
            }
        }
        return !voters.isEmpty() && n >= size();
    }
}
