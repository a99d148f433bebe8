package io.raftkv.raft.sim;

import io.raftkv.raft.Message;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The simulated network's state: the messages in flight (delivered in FIFO order unless the chaos reorders), the
 * messages held back for a while, and which directed links are cut (partitions, isolation, one-way blocks).
 * Delivery itself is {@link SimRuntime#deliver}; loss, duplication and delay are chaos actions ({@link SimChaos}).
 */
final class SimNetwork {

    private final Simulation sim;
    final List<Message> inFlight = new ArrayList<>();
    /** Messages held back, with the step at which they rejoin the network. */
    private final List<Message> delayed = new ArrayList<>();
    private final List<Long> delayedUntil = new ArrayList<>();
    /** blocked[i][j]: messages from node i to node j are lost. */
    final boolean[][] blocked;

    SimNetwork(Simulation sim, int nodes) {
        this.sim = sim;
        this.blocked = new boolean[nodes][nodes];
    }

    /** Holds {@code m} back until step {@code until}. */
    void delay(Message m, long until) {
        delayed.add(m);
        delayedUntil.add(until);
    }

    /** Puts delayed messages that are due (or all of them) back in flight. */
    void releaseDelayed(boolean all) {
        for (int i = 0; i < delayed.size(); i++) {
            if (all || delayedUntil.get(i) <= sim.step) {
                Message m = delayed.remove(i);
                delayedUntil.remove(i);
                i--;
                inFlight.add(m);
                if (sim.tracing) {
                    sim.trace("release delayed " + m);
                }
            }
        }
    }

    boolean anyBlocked() {
        for (boolean[] row : blocked) {
            for (boolean b : row) {
                if (b) {
                    return true;
                }
            }
        }
        return false;
    }

    void heal() {
        for (boolean[] row : blocked) {
            Arrays.fill(row, false);
        }
        if (sim.tracing) {
            sim.trace("heal");
        }
    }

    /** Cuts node {@code i} off from everyone, both ways. */
    void isolate(int i, String id) {
        for (int j = 0; j < blocked.length; j++) {
            if (j != i) {
                blocked[i][j] = true;
                blocked[j][i] = true;
            }
        }
        if (sim.tracing) {
            sim.trace("isolate " + id);
        }
    }

    /** Only nodes of one group (g[i] >= 0) talk to each other; g[i] < 0: isolated. */
    void partition(int[] g) {
        for (int i = 0; i < g.length; i++) {
            for (int j = 0; j < g.length; j++) {
                blocked[i][j] = i != j && (g[i] < 0 || g[i] != g[j]);
            }
        }
    }
}
