package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node runtime itself (real loops, tickers and KV stores, in one JVM): the answers it gives clients must be
 * true. A write answered OK is applied on every member; one refused as "no effect" (not proposed, not the leader,
 * overloaded, its slot lost to another term) is applied nowhere; only "outcome unknown" may go either way.
 */
class RaftNodeTest extends ClusterLoadTest {

    @Test
    void aGracefulStopOfTheLeaderUnderLoadAnswersEveryPendingWriteTruly() throws Exception {
        try (InProcessCluster c = threeNodes()) {
            c.startAll();
            String leader = c.awaitLeader();
            WriteLoad load = WriteLoad.acknowledged(c.nodes.get(leader), 4, 300);
            c.stop(leader); // graceful: hands leadership over, then answers what is still pending
            load.stop();
            String next = c.awaitLeader();
            assertTrue(!next.equals(leader));
            awaitBarrier(c, next, "barrier");
            int[] counts = load.verify(c);
            int okCount = counts[Outcome.OK.ordinal()];
            int noEffect = counts[Outcome.NO_EFFECT.ordinal()];
            int unknown = counts[Outcome.UNKNOWN.ordinal()];
            assertTrue(okCount >= 300, "acknowledged " + okCount);
            assertTrue(noEffect + unknown > 0, "the stop found writes in flight: " + load.outcomes.size() + " answers");
        }
    }

    @Test
    void beyondTheBoundOnPendingWritesAWriteIsRefusedUnproposed() throws Exception {
        try (InProcessCluster c = new InProcessCluster(dir, 1, 4)) {
            c.startAll();
            RaftNode node = c.nodes.get(c.awaitLeader());
            Map<String, CompletableFuture<Outcome>> answers = new ConcurrentHashMap<>();
            for (int i = 0; i < 300; i++) {
                String k = "k" + i;
                answers.put(k, node.propose(put(k)).handle((r, e) -> classify(e)));
            }
            int refused = 0;
            for (Map.Entry<String, CompletableFuture<Outcome>> e : answers.entrySet()) {
                Outcome o = e.getValue().get();
                assertTrue(o != Outcome.UNKNOWN, e.getKey() + ": " + o);
                assertEquals(o == Outcome.OK, c.store("n1").get(e.getKey()).isPresent(), e.getKey() + ": " + o);
                if (o == Outcome.NO_EFFECT) {
                    refused++;
                }
            }
            assertTrue(refused > 0, "300 writes at once against a bound of 4: some must be refused");
            assertTrue(refused < 300, "the first ones fit");
            assertEquals(0, node.pendingWrites());
        }
    }

    @Test
    void aRequestDuringAnElectionWaitsForItsOutcome() throws Exception {
        try (InProcessCluster c = threeNodes()) {
            RaftNode n1 = c.start("n1"); // alone: it cannot win an election
            assertNull(n1.awaitLeader(Duration.ofMillis(300)).get(), "no leader without a quorum");
            CompletableFuture<String> waiting = n1.awaitLeader(Duration.ofSeconds(20));
            c.start("n2");
            String leader = waiting.get();
            assertNotNull(leader, "the waiter learns the leader once the election is won");
            assertEquals(leader, n1.leaderId());
        }
    }
}
