package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.statemachine.KvCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node runtime itself (real loops, tickers and KV stores, in one JVM): the answers it gives clients must be
 * true. A write answered OK is applied on every member; one refused as "no effect" (not proposed, not the leader,
 * overloaded, its slot lost to another term) is applied nowhere; only "outcome unknown" may go either way.
 */
class RaftNodeTest {

    @TempDir
    Path dir;

    enum Outcome { OK, NO_EFFECT, UNKNOWN }

    static Outcome classify(Throwable err) {
        if (err == null) {
            return Outcome.OK;
        }
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (e instanceof NotProposedException || e instanceof NotLeaderException || e instanceof ProposalLostException
                || e instanceof OverloadedException) {
            return Outcome.NO_EFFECT;
        }
        if (e instanceof OutcomeUnknownException || e instanceof TimeoutException) {
            return Outcome.UNKNOWN;
        }
        throw new AssertionError("an answer outside the contract", e);
    }

    static byte[] put(String key) {
        return KvCommand.put(key, key.getBytes(StandardCharsets.UTF_8)).encode();
    }

    @Test
    void aGracefulStopOfTheLeaderUnderLoadAnswersEveryPendingWriteTruly() throws Exception {
        try (InProcessCluster c = new InProcessCluster(dir, 3, 4096)) {
            c.startAll();
            String leader = c.awaitLeader();
            RaftNode node = c.nodes.get(leader);
            Map<String, Outcome> outcomes = new ConcurrentHashMap<>();
            AtomicBoolean go = new AtomicBoolean(true);
            AtomicInteger ok = new AtomicInteger();
            List<Thread> clients = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int client = t;
                Thread th = new Thread(() -> {
                    for (int i = 0; go.get(); i++) {
                        String key = "c" + client + "-" + i;
                        // 8 writes in flight per client, so the stop always finds some pending
                        List<CompletableFuture<Void>> batch = new ArrayList<>();
                        for (int j = 0; j < 8; j++, i++) {
                            String k = "c" + client + "-" + i;
                            batch.add(node.propose(put(k)).handle((r, err) -> {
                                Outcome o = classify(err);
                                outcomes.put(k, o);
                                if (o == Outcome.OK) {
                                    ok.incrementAndGet();
                                }
                                return null;
                            }));
                        }
                        batch.forEach(CompletableFuture::join);
                    }
                });
                th.start();
                clients.add(th);
            }
            InProcessCluster.await("300 acknowledged writes", () -> ok.get() >= 300);
            c.stop(leader); // graceful: hands leadership over, then answers what is still pending
            go.set(false);
            for (Thread th : clients) {
                th.join(10_000);
            }
            String next = c.awaitLeader();
            assertTrue(!next.equals(leader));
            // A write of the new leader's own: once it is applied everywhere, so is everything committed before it.
            assertNull(c.nodes.get(next).propose(put("barrier")).handle((r, e) -> e).get());
            for (String id : c.nodes.keySet()) {
                InProcessCluster.await("the barrier applied on " + id, () -> c.store(id).get("barrier").isPresent());
            }
            int okCount = 0;
            int noEffect = 0;
            int unknown = 0;
            for (Map.Entry<String, Outcome> e : outcomes.entrySet()) {
                for (String id : c.nodes.keySet()) {
                    boolean applied = c.store(id).get(e.getKey()).isPresent();
                    if (e.getValue() == Outcome.OK) {
                        assertTrue(applied, e.getKey() + " was acknowledged but is missing on " + id);
                    } else if (e.getValue() == Outcome.NO_EFFECT) {
                        assertTrue(!applied, e.getKey() + " was answered 'no effect' but is applied on " + id);
                    }
                }
                switch (e.getValue()) {
                    case OK -> okCount++;
                    case NO_EFFECT -> noEffect++;
                    case UNKNOWN -> unknown++;
                }
            }
            assertTrue(okCount >= 300, "acknowledged " + okCount);
            assertTrue(noEffect + unknown > 0, "the stop found writes in flight: " + outcomes.size() + " answers");
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
        try (InProcessCluster c = new InProcessCluster(dir, 3, 4096)) {
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
