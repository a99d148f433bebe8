package io.raftkv.raft.quorum;

/** Where an election stands. */
public enum VoteResult {
    /** Neither a majority for nor a majority against yet. */
    PENDING,
    /** A majority of the voters granted the vote. */
    WON,
    /** Enough voters refused that no majority can grant it any more. */
    LOST
}
