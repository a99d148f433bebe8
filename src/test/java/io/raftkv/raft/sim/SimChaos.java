package io.raftkv.raft.sim;

import io.raftkv.raft.Message;
import io.raftkv.raft.sim.Simulation.SimNode;

import java.util.Arrays;
import java.util.List;

/**
 * The randomized test's driver: each step picks one action (deliver, tick, client operation, process a batched Ready,
 * drop, duplicate, delay, crash, restart, partition, heal, flush, snapshot, membership change...) with weights from
 * {@link SimOptions} and performs it on the {@link Simulation}, all from the simulation's seeded random source.
 */
final class SimChaos {

    private final Simulation sim;

    SimChaos(Simulation sim) {
        this.sim = sim;
    }

    private enum Action {
        DELIVER, TICK, WRITE, READ, PROCESS, DROP, DUPLICATE, DELAY, CRASH, RESTART, PARTITION, HEAL, FLUSH_SM, ISOLATE_LEADER, CRASH_LEADER,
        SNAPSHOT, CONF_CHANGE, TRANSFER
    }

    private final Action[] actions = Action.values();
    private final int[] weights = new int[actions.length];

    /** One random action. */
    void step() {
        sim.chaos = true;
        sim.step++;
        sim.releaseDelayed(false);
        boolean anyDown = false;
        boolean anyDirty = false;
        boolean anyBlocked;
        for (SimNode n : sim.nodes) {
            anyDown |= !n.up;
            anyDirty |= n.up && n.dirty;
        }
        anyBlocked = sim.net.anyBlocked();
        boolean msgs = !sim.network.isEmpty();
        weights[Action.DELIVER.ordinal()] = msgs ? sim.opt.wDeliver : 0;
        weights[Action.TICK.ordinal()] = sim.opt.wTick;
        weights[Action.WRITE.ordinal()] = sim.opt.wWrite;
        weights[Action.READ.ordinal()] = sim.opt.wRead;
        weights[Action.PROCESS.ordinal()] = anyDirty ? sim.opt.wProcess : 0;
        weights[Action.DROP.ordinal()] = msgs ? sim.opt.wDrop : 0;
        weights[Action.DUPLICATE.ordinal()] = msgs ? sim.opt.wDuplicate : 0;
        weights[Action.DELAY.ordinal()] = msgs ? sim.opt.wDelay : 0;
        weights[Action.CRASH.ordinal()] = sim.opt.wCrash;
        weights[Action.RESTART.ordinal()] = anyDown ? sim.opt.wRestart : 0;
        weights[Action.PARTITION.ordinal()] = sim.opt.wPartition;
        weights[Action.HEAL.ordinal()] = anyBlocked ? sim.opt.wHeal : 0;
        weights[Action.FLUSH_SM.ordinal()] = sim.opt.wFlushStateMachine;
        String leader = sim.leader();
        weights[Action.ISOLATE_LEADER.ordinal()] = leader != null ? sim.opt.wIsolateLeader : 0;
        weights[Action.CRASH_LEADER.ordinal()] = leader != null ? sim.opt.wCrashLeader : 0;
        weights[Action.SNAPSHOT.ordinal()] = sim.opt.wSnapshot;
        weights[Action.CONF_CHANGE.ordinal()] = leader != null ? sim.opt.wConfChange : 0;
        weights[Action.TRANSFER.ordinal()] = leader != null ? sim.opt.wTransfer : 0;
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int x = sim.rnd.nextInt(total);
        Action a = Action.TICK;
        for (int i = 0; i < weights.length; i++) {
            x -= weights[i];
            if (x < 0) {
                a = actions[i];
                break;
            }
        }
        switch (a) {
            case DELIVER -> {
                int i = sim.rnd.nextDouble() < sim.opt.reorderProbability ? sim.rnd.nextInt(sim.network.size()) : 0;
                sim.deliver(sim.network.remove(i), true);
            }
            case TICK -> {
                SimNode n = sim.nodes.get(sim.rnd.nextInt(sim.nodes.size()));
                if (n.up) {
                    n.raft.tick();
                    sim.afterInput(n, true);
                }
            }
            case WRITE -> sim.clients.randomOp(true);
            case READ -> sim.clients.randomOp(false);
            case PROCESS -> {
                List<SimNode> dirty = sim.nodes.stream().filter(n -> n.up && n.dirty).toList();
                sim.handleReady(dirty.get(sim.rnd.nextInt(dirty.size())), false);
            }
            case DROP -> {
                Message m = sim.network.remove(sim.rnd.nextInt(sim.network.size()));
                if (sim.tracing) {
                    sim.trace("drop " + m);
                }
                sim.reportSnapshot(m, false);
            }
            case DUPLICATE -> {
                Message m = sim.network.get(sim.rnd.nextInt(sim.network.size()));
                sim.network.add(m);
                if (sim.tracing) {
                    sim.trace("duplicate " + m);
                }
            }
            case DELAY -> {
                Message m = sim.network.remove(sim.rnd.nextInt(sim.network.size()));
                sim.net.delay(m, sim.step + 20 + sim.rnd.nextInt(3000));
                if (sim.tracing) {
                    sim.trace("delay " + m);
                }
            }
            case CRASH -> {
                SimNode n = sim.nodes.get(sim.rnd.nextInt(sim.nodes.size()));
                if (n.up) {
                    if (n.dirty && sim.rnd.nextBoolean()) {
                        sim.handleReady(n, true); // sim.crash between persisting a Ready and sending its messages
                    } else {
                        sim.crash(n);
                    }
                }
            }
            case RESTART -> {
                List<SimNode> down = sim.nodes.stream().filter(n -> !n.up).toList();
                sim.restart(down.get(sim.rnd.nextInt(down.size())), sim.rnd.nextBoolean());
            }
            case PARTITION -> randomPartition();
            case HEAL -> sim.heal();
            case ISOLATE_LEADER -> {
                sim.heal();
                sim.isolate(leader);
            }
            case CRASH_LEADER -> sim.crash(sim.byId.get(leader));
            case SNAPSHOT -> sim.snapshots.take(sim.nodes.get(sim.rnd.nextInt(sim.nodes.size())));
            case CONF_CHANGE -> sim.membership.randomChange();
            case TRANSFER -> transfer(sim.byId.get(leader));
            case FLUSH_SM -> {
                SimNode n = sim.nodes.get(sim.rnd.nextInt(sim.nodes.size()));
                if (n.up) {
                    sim.flushStateMachine(n);
                }
            }
        }
        sim.clients.tick();
        sim.checker.afterStep();
        if (sim.step % 512 == 0) {
            sim.checker.fullCheck();
        }
    }

    /**
     * Asks the leader to hand leadership to a random server of its configuration (a voter, usually; now and then a
     * learner, itself or a down server, which it must refuse or fail to reach), amid all the other faults.
     */
    private void transfer(SimNode leader) {
        List<String> members = List.copyOf(leader.raft.configuration().members());
        String target = members.get(sim.rnd.nextInt(members.size()));
        boolean started = leader.raft.transferLeadership(target);
        if (started) {
            sim.transfersStarted++;
        }
        if (sim.tracing) {
            sim.trace("transfer leadership " + leader.id + " -> " + target + (started ? " started" : " refused"));
        }
        sim.afterInput(leader, true);
    }

    private void randomPartition() {
        int n = sim.nodes.size();
        sim.heal();
        if (sim.rnd.nextBoolean()) {
            int groups = 2 + sim.rnd.nextInt(n - 1);
            int[] g = new int[n];
            for (int i = 0; i < n; i++) {
                g[i] = sim.rnd.nextInt(groups);
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    sim.blocked[i][j] = g[i] != g[j];
                }
            }
            if (sim.tracing) {
                sim.trace("partition groups " + Arrays.toString(g));
            }
        } else {
            int links = 1 + sim.rnd.nextInt(n);
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < links; k++) {
                int i = sim.rnd.nextInt(n);
                int j = sim.rnd.nextInt(n);
                if (i != j) {
                    sim.blocked[i][j] = true;
                    sb.append(sim.ids.get(i)).append("-x->").append(sim.ids.get(j)).append(' ');
                }
            }
            if (sim.tracing) {
                sim.trace("asymmetric partition " + sb);
            }
        }
    }

}
