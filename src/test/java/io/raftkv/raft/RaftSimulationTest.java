package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftkv.raft.sim.SimRunner;
import io.raftkv.raft.sim.SimOptions;
import io.raftkv.raft.sim.Simulation;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The randomized cluster simulation: for each seed, a few thousand random steps of faults (crashes, restarts,
 * partitions, message loss, duplication, reordering, leadership transfers) and client traffic (reads, puts,
 * compare-and-sets and deletes from clients that retry with sessions) under the safety checker, then heal and require
 * liveness, then check the requests (at most once, the 503 contract) and the client history for linearizability.
 * <p>
 * System properties: {@code simulation.seeds} (how many seeds, default 2000; the pom passes it),
 * {@code simulation.steps} (steps per seed), {@code simulation.seed=N} (run only seed N, printing every event;
 * add {@code simulation.nodes=3|5} to pick the cluster size).
 */
class RaftSimulationTest {

    static final int STEPS = Integer.getInteger("simulation.steps", 15000);

    @Test
    void threeNodeClusters() throws Exception {
        runSeeds(3);
    }

    @Test
    void fiveNodeClusters() throws Exception {
        runSeeds(5);
    }

    @Test
    void aSeedReplaysIdentically() {
        // Everything hangs on this: a failing seed must fail the same way when re-run.
        for (int nodes : new int[] {3, 5}) {
            List<String> first = traceOf(4242, nodes);
            List<String> second = traceOf(4242, nodes);
            org.junit.jupiter.api.Assertions.assertTrue(first.size() > 1000, "trace too short: " + first.size());
            org.junit.jupiter.api.Assertions.assertEquals(first, second);
        }
    }

    private static List<String> traceOf(long seed, int nodes) {
        SimOptions o = SimOptions.random(seed, nodes);
        o.trace = true;
        o.traceKeep = Integer.MAX_VALUE;
        Simulation sim = new Simulation(o).start();
        for (int i = 0; i < 3000; i++) {
            sim.chaosStep();
        }
        sim.stabilize(SimRunner.LIVENESS_TICKS);
        sim.finish();
        List<String> out = new ArrayList<>(sim.recentTrace());
        out.add(sim.describeCluster());
        return out;
    }

    private static void runSeeds(int nodes) throws Exception {
        String single = System.getProperty("simulation.seed");
        if (single != null && !single.isBlank()) {
            int only = Integer.getInteger("simulation.nodes", 0);
            Assumptions.assumeTrue(only == 0 || only == nodes, "simulation.nodes=" + only);
            runVerbose(Long.parseLong(single.trim()), nodes);
            return;
        }
        int seeds = Integer.getInteger("simulation.seeds", 2000);
        int threads = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        Map<Long, SimRunner.SimFailure> failures = new ConcurrentSkipListMap<>();
        AtomicLong committed = new AtomicLong();
        AtomicLong leaders = new AtomicLong();
        AtomicLong ops = new AtomicLong();
        AtomicLong maxStabilize = new AtomicLong();
        AtomicLong snapshotsTaken = new AtomicLong();
        AtomicLong snapshotsInstalled = new AtomicLong();
        AtomicLong installCrashes = new AtomicLong();
        AtomicLong confProposed = new AtomicLong();
        AtomicLong confRefused = new AtomicLong();
        AtomicLong confCommitted = new AtomicLong();
        AtomicLong retries = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        AtomicLong lost = new AtomicLong();
        AtomicLong casFailed = new AtomicLong();
        AtomicLong transfers = new AtomicLong();
        long t0 = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (long seed = 0; seed < seeds; seed++) {
                long s = seed;
                futures.add(pool.submit(() -> {
                    try {
                        SimRunner.Stats st = SimRunner.run(SimOptions.random(s, nodes), STEPS);
                        committed.addAndGet(st.committed());
                        leaders.addAndGet(st.leaders());
                        ops.addAndGet(st.opsOk() + st.opsUnknown());
                        maxStabilize.accumulateAndGet(st.stabilizeTicks(), Math::max);
                        snapshotsTaken.addAndGet(st.snapshotsTaken());
                        snapshotsInstalled.addAndGet(st.snapshotsInstalled());
                        installCrashes.addAndGet(st.installCrashes());
                        confProposed.addAndGet(st.confChangesProposed());
                        confRefused.addAndGet(st.confChangesRefused());
                        confCommitted.addAndGet(st.confChangesCommitted());
                        retries.addAndGet(st.retries());
                        duplicates.addAndGet(st.duplicateAnswers());
                        lost.addAndGet(st.lostAnswers());
                        casFailed.addAndGet(st.casFailed());
                        transfers.addAndGet(st.transfers());
                    } catch (SimRunner.SimFailure f) {
                        failures.put(s, f);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("raft simulation, %d nodes: %d seeds x %d steps in %d ms on %d threads; %d failed; "
                        + "%d entries committed, %d leaders elected, %d client ops checked, liveness needed at most %d ticks; "
                        + "%d snapshots taken, %d installed from a leader (%d crashes mid-install); "
                        + "%d membership changes proposed, %d refused, %d committed; "
                        + "%d client retries, %d answered from the session (a retry of an applied write), %d attempts lost, "
                        + "%d failed compare-and-sets, %d leadership transfers started%n",
                nodes, seeds, STEPS, ms, threads, failures.size(), committed.get(), leaders.get(), ops.get(), maxStabilize.get(),
                snapshotsTaken.get(), snapshotsInstalled.get(), installCrashes.get(), confProposed.get(), confRefused.get(), confCommitted.get(),
                retries.get(), duplicates.get(), lost.get(), casFailed.get(), transfers.get());
        if (!failures.isEmpty()) {
            long first = failures.keySet().iterator().next();
            StringBuilder sb = new StringBuilder();
            sb.append(failures.size()).append(" of ").append(seeds).append(" seeds failed (").append(nodes).append(" nodes): ")
                    .append(failures.keySet().stream().limit(30).toList()).append('\n');
            failures.values().stream().limit(5).forEach(f -> sb.append("  ").append(f.getMessage()).append('\n'));
            sb.append("first failing seed, re-run with a trace:\n");
            sb.append(SimRunner.explain(SimOptions.random(first, nodes), STEPS, 250, null));
            fail(sb.toString());
        }
        if (seeds >= 100) {
            // Half the seeds snapshot and compact: enough runs must actually send and install snapshots.
            assertTrue(snapshotsInstalled.get() >= seeds / 20, "only " + snapshotsInstalled.get() + " snapshot installs in " + seeds + " seeds");
            assertTrue(installCrashes.get() > 0, "no crash in the middle of a snapshot install in " + seeds + " seeds");
            // About half the seeds change membership: changes must actually commit, and some be refused.
            assertTrue(confCommitted.get() >= seeds, "only " + confCommitted.get() + " membership changes committed in " + seeds + " seeds");
            assertTrue(confRefused.get() > 0, "no membership change refused in " + seeds + " seeds");
            // Retries must actually reach the session dedup, CASes must fail now and then, transfers must start.
            assertTrue(duplicates.get() >= seeds / 10, "only " + duplicates.get() + " retries answered from the session in " + seeds + " seeds");
            assertTrue(casFailed.get() >= seeds, "only " + casFailed.get() + " failed compare-and-sets in " + seeds + " seeds");
            assertTrue(transfers.get() >= seeds, "only " + transfers.get() + " leadership transfers in " + seeds + " seeds");
        }
    }

    private static void runVerbose(long seed, int nodes) {
        SimOptions o = SimOptions.random(seed, nodes);
        o.verbose = System.out;
        o.trace = true;
        o.traceKeep = 250;
        try {
            System.out.println("seed " + seed + " (" + nodes + " nodes): " + SimRunner.run(o, STEPS));
        } catch (SimRunner.SimFailure f) {
            fail(f.report(), f);
        }
    }
}
