package io.raftkv.raft;

/** A node's role. PRE_CANDIDATE is the PreVote phase (dissertation 9.6): it asks for votes without raising its term. */
public enum Role {
    FOLLOWER, PRE_CANDIDATE, CANDIDATE, LEADER
}
