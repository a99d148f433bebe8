package io.raftkv.raft.sim;

import java.io.PrintStream;
import java.util.List;

/** Runs one randomized simulation (chaos, then heal and check liveness, then check the history) for a seed. */
public final class SimRunner {

    /** Tick rounds the healed cluster gets to elect a leader and commit a write everywhere. */
    public static final int LIVENESS_TICKS = 400;

    public record Stats(long seed, int nodes, long steps, int leaders, int committed, long opsOk, long opsUnknown,
                        long crashes, long delivered, long maxInFlight, long truncations, long rejections, int stabilizeTicks,
                        long snapshotsTaken, long snapshotsInstalled, long installCrashes,
                        long confChangesProposed, long confChangesRefused, long confChangesCommitted,
                        long retries, long duplicateAnswers, long lostAnswers, long casFailed, long transfers) {
    }

    private SimRunner() {
    }

    public static Stats run(SimOptions o, int steps) {
        Simulation sim = new Simulation(o);
        try {
            sim.start();
            for (int i = 0; i < steps; i++) {
                sim.chaosStep();
            }
            int ticks = sim.stabilize(LIVENESS_TICKS);
            sim.finish();
            History h = sim.history();
            return new Stats(o.seed, o.nodes, sim.step(), sim.leadersElected(), sim.committedCount(), h.count(History.Status.OK),
                    h.count(History.Status.UNKNOWN), sim.crashes, sim.delivered, sim.maxInFlight, sim.truncations, sim.rejections, ticks,
                    sim.snapshotsTaken(), sim.snapshotsInstalled(), sim.snapshotInstallCrashes(),
                    sim.confChangesProposed(), sim.confChangesRefused(), sim.confChangesCommitted(),
                    sim.clients.retries, sim.clients.duplicateAnswers, sim.clients.lostAnswers, sim.clients.casFailed, sim.transfersStarted);
        } catch (RuntimeException e) {
            throw new SimFailure(o, steps, sim.step(), e, sim.recentTrace(), sim.describeCluster());
        }
    }

    /** A failed run: seed, step, cause, and (if tracing was on) the events leading up to it. */
    public static final class SimFailure extends RuntimeException {
        public final long seed;
        public final int nodes;
        public final long step;
        public final int steps;
        public final List<String> trace;
        public final String cluster;
        public final Mutation mutation;

        SimFailure(SimOptions o, int steps, long step, RuntimeException cause, List<String> trace, String cluster) {
            super("seed " + o.seed + " (" + o.nodes + " nodes, " + o.mutation + ") failed at step " + step
                    + (step >= steps ? " (after the chaos: healing or final checks)" : "") + ": " + cause, cause);
            this.steps = steps;
            this.seed = o.seed;
            this.nodes = o.nodes;
            this.step = step;
            this.trace = trace;
            this.cluster = cluster;
            this.mutation = o.mutation;
        }

        public String report() {
            StringBuilder sb = new StringBuilder(getMessage());
            sb.append("\ncluster: ").append(cluster);
            if (!trace.isEmpty()) {
                sb.append("\nlast ").append(trace.size()).append(" events:");
                for (String t : trace) {
                    sb.append("\n  ").append(t);
                }
            }
            sb.append("\nreplay (prints every event): ./mvnw -B -q test -Dtest=RaftSimulationTest -Dsimulation.seed=").append(seed)
                    .append(" -Dsimulation.nodes=").append(nodes).append(" -Dsimulation.steps=").append(steps);
            if (mutation != Mutation.NONE) {
                sb.append(" (this run had mutation ").append(mutation).append(" and its test's option tweaks: replay it from that test)");
            }
            return sb.toString();
        }
    }

    /** Re-runs a failed seed with tracing on, for the report (the run is deterministic, so it fails the same way). */
    public static String explain(SimOptions o, int steps, int traceKeep, PrintStream verbose) {
        o.trace = true;
        o.traceKeep = traceKeep;
        o.verbose = verbose;
        try {
            run(o, steps);
            return "seed " + o.seed + " (" + o.nodes + " nodes) did NOT fail when re-run with tracing: nondeterminism!";
        } catch (SimFailure f) {
            return f.report();
        }
    }
}
