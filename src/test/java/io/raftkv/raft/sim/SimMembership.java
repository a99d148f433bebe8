package io.raftkv.raft.sim;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Raft;
import io.raftkv.raft.Role;
import io.raftkv.raft.confchange.ConfChangeRefusedException;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The simulation's membership operator: asks the leader for random single-server changes (add a fresh server as a
 * learner, promote a learner, remove a follower, a learner or the leader itself; a replacement is a removal and an
 * addition) and tells each simulated server its bootstrap configuration. The first {@code nodes} servers bootstrap
 * as the voters; the spare servers boot with an empty configuration, like servers that join a running cluster, and
 * wait for a leader to add them. A server id is never added twice.
 */
final class SimMembership {

    private final Simulation sim;
    private final Random rnd;
    private final List<String> bootstrapVoters;
    /** Every id that has been in a configuration proposed so far (bootstrap voters included): never added again. */
    private final Set<String> used = new HashSet<>();
    long proposed;
    final Map<ConfChangeRefusedException.Reason, Long> refused = new EnumMap<>(ConfChangeRefusedException.Reason.class);

    SimMembership(Simulation sim, Random rnd, List<String> bootstrapVoters) {
        this.sim = sim;
        this.rnd = rnd;
        this.bootstrapVoters = List.copyOf(bootstrapVoters);
        used.addAll(bootstrapVoters);
    }

    /** The voters {@code id} boots with when its log and snapshot say nothing: the bootstrap voters, or none. */
    List<String> bootstrapFor(String id) {
        return bootstrapVoters.contains(id) ? bootstrapVoters : List.of();
    }

    Configuration bootstrap() {
        return Configuration.ofVoters(bootstrapVoters);
    }

    /** One random change, proposed at the current leader (if any). Refusals are counted, not errors. */
    void randomChange() {
        String leader = sim.leader();
        if (leader == null) {
            return;
        }
        Raft r = sim.raft(leader);
        ConfChange change = pick(leader, r.configuration());
        if (change != null) {
            propose(leader, change);
        }
    }

    /** Proposes {@code change} at {@code id}; returns the entry, or null if refused or not the leader. */
    Entry propose(String id, ConfChange change) {
        Raft r = sim.raft(id);
        try {
            Entry e = r.proposeConfChange(change);
            if (e != null) {
                proposed++;
                used.add(change.nodeId());
                sim.trace("conf change " + change + " proposed at " + id + " as " + e + " (config " + r.configuration() + ")");
            }
            return e;
        } catch (ConfChangeRefusedException ex) {
            refused.merge(ex.reason(), 1L, Long::sum);
            sim.trace("conf change " + change + " refused by " + id + ": " + ex.reason() + " " + ex.getMessage());
            return null;
        } finally {
            sim.inputTaken(id);
        }
    }

    private ConfChange pick(String leader, Configuration c) {
        List<ConfChange> options = new ArrayList<>();
        for (String id : sim.ids()) {
            if (!used.contains(id)) {
                options.add(ConfChange.addLearner(id, ("http://" + id).getBytes()));
                break; // the next fresh id
            }
        }
        for (String l : c.learners()) {
            options.add(ConfChange.promote(l));
            options.add(ConfChange.promote(l)); // learners are there to be promoted: twice as likely
            options.add(ConfChange.remove(l));
        }
        // Shrinking to one or two voters makes runs less interesting: allow it, but rarely.
        boolean mayShrink = c.voters().size() > 3 || rnd.nextInt(4) == 0;
        for (String v : c.voters()) {
            if (mayShrink && c.voters().size() > 1 && (!v.equals(leader) || rnd.nextInt(3) == 0)) {
                options.add(ConfChange.remove(v));
            }
        }
        return options.isEmpty() ? null : options.get(rnd.nextInt(options.size()));
    }

    /** The members of the configuration of the up leader in the highest term, or null without one. */
    Configuration leaderConfiguration() {
        String l = sim.leader();
        return l == null || sim.raft(l).role() != Role.LEADER ? null : sim.raft(l).configuration();
    }

    long refusedCount() {
        return refused.values().stream().mapToLong(Long::longValue).sum();
    }
}
