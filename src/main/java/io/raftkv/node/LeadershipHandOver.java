package io.raftkv.node;

import io.raftkv.events.EventLog;
import io.raftkv.raft.Raft;
import io.raftkv.raft.Role;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A {@link RaftNode}'s leadership transfers (thesis 3.10, carried out by {@link Raft#transferLeadership}): on an
 * operator's request, and before the node shuts down. The transfer starts on the node's loop thread; whether the target
 * took over is then watched from the node's published role and leader.
 */
final class LeadershipHandOver {

    private static final Logger LOG = Logger.getLogger(RaftNode.class.getName()); // logs as the node it serves

    private final RaftNode node;
    /** Touched on the node's loop thread only. */
    private final Raft raft;
    private final NodeSettings settings;
    private final EventLog events;
    private final ScheduledExecutorService ticker;

    LeadershipHandOver(RaftNode node, Raft raft, NodeSettings settings, EventLog events, ScheduledExecutorService ticker) {
        this.node = node;
        this.raft = raft;
        this.settings = settings;
        this.events = events;
        this.ticker = ticker;
    }

    /** See {@link RaftNode#transferLeadership}. */
    CompletableFuture<String> transfer(String target) {
        CompletableFuture<String> started = start(target, "operator request");
        long timeoutMs = settings.tick().toMillis() * settings.electionTicks() + 500;
        return started.thenCompose(to -> {
            CompletableFuture<String> done = new CompletableFuture<>();
            long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
            ticker.scheduleWithFixedDelay(() -> {
                if (done.isDone()) {
                    throw new IllegalStateException("finished"); // cancels this repetition
                }
                if (to.equals(node.leaderId()) && node.role() != Role.LEADER) {
                    done.complete(to);
                } else if (System.nanoTime() > deadline) {
                    done.completeExceptionally(new java.util.concurrent.TimeoutException(to + " did not take over"));
                }
            }, 5, 5, TimeUnit.MILLISECONDS);
            return done;
        });
    }

    /**
     * On the loop thread: hands leadership to {@code target} (null: the most up-to-date live follower) and logs why.
     * Completes with the target, or fails if this node is not the leader or there is no usable target.
     */
    private CompletableFuture<String> start(String target, String why) {
        CompletableFuture<String> started = new CompletableFuture<>();
        node.submit(started, () -> {
            if (raft.role() != Role.LEADER) {
                started.completeExceptionally(new NotLeaderException(raft.leader()));
                return;
            }
            String to = target == null ? mostUpToDateFollower() : target;
            if (to == null || !raft.transferLeadership(to)) {
                started.completeExceptionally(new IllegalArgumentException(to == null
                        ? "no live follower to hand leadership to" : "cannot hand leadership to '" + to + "': not another member"));
                return;
            }
            events.log(why + ": handing leadership to " + to);
            started.complete(to);
        });
        return started;
    }

    private String mostUpToDateFollower() {
        String target = null;
        long best = -1;
        for (var e : raft.status().peers().entrySet()) {
            if (raft.configuration().isVoter(e.getKey()) && e.getValue().recentActive() && e.getValue().matchIndex() > best) {
                best = e.getValue().matchIndex();
                target = e.getKey();
            }
        }
        return target;
    }

    /**
     * A leader that is shutting down (its loop still running) hands leadership to its most up-to-date follower first,
     * so clients see a new leader within a round trip or two instead of waiting out an election timeout. Best effort,
     * bounded by an election timeout.
     */
    void beforeShutdown() {
        if (node.role() != Role.LEADER || node.configuration().voters().size() < 2) {
            return;
        }
        try {
            start(null, "shutting down").get(1, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + settings.tick().toNanos() * settings.electionTicks();
            while (node.role() == Role.LEADER && System.nanoTime() < deadline) {
                Thread.sleep(5); // the loop thread does the work; this only waits for its outcome
            }
        } catch (Exception e) {
            LOG.log(Level.FINE, "leadership hand-over skipped", e);
        }
    }
}
