package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Client threads writing unique keys to one node, 8 writes in flight each (so a stop or a fault always finds some
 * pending), recording each write's answer; then the check that every answer was true: an acknowledged write is
 * applied on every member, a write answered "no effect" on none, an unknown outcome either way.
 */
final class WriteLoad {

    final Map<String, ClusterLoadTest.Outcome> outcomes = new ConcurrentHashMap<>();
    final AtomicInteger ok = new AtomicInteger();
    private final AtomicBoolean go = new AtomicBoolean(true);
    private final List<Thread> clients = new ArrayList<>();

    WriteLoad(RaftNode node, int threads) {
        for (int t = 0; t < threads; t++) {
            int client = t;
            Thread th = new Thread(() -> {
                for (int i = 0; go.get(); ) {
                    List<CompletableFuture<Void>> batch = new ArrayList<>();
                    for (int j = 0; j < 8; j++, i++) {
                        String k = "c" + client + "-" + i;
                        batch.add(node.propose(ClusterLoadTest.put(k)).handle((r, err) -> {
                            ClusterLoadTest.Outcome o = ClusterLoadTest.classify(err);
                            outcomes.put(k, o);
                            if (o == ClusterLoadTest.Outcome.OK) {
                                ok.incrementAndGet();
                            }
                            return null;
                        }));
                    }
                    batch.forEach(CompletableFuture::join);
                }
            }, "load-" + t);
            th.start();
            clients.add(th);
        }
    }

    /** {@code threads} clients writing to {@code node}, returned once {@code acknowledged} of their writes are. */
    static WriteLoad acknowledged(RaftNode node, int threads, int acknowledged) {
        WriteLoad load = new WriteLoad(node, threads);
        InProcessCluster.await(acknowledged + " acknowledged writes", () -> load.ok.get() >= acknowledged);
        return load;
    }

    void stop() throws InterruptedException {
        go.set(false);
        for (Thread th : clients) {
            th.join(10_000);
        }
    }

    /** Checks every answer against what the running members applied; returns {ok, no effect, unknown}. */
    int[] verify(InProcessCluster c) {
        int[] counts = new int[3];
        for (Map.Entry<String, ClusterLoadTest.Outcome> e : outcomes.entrySet()) {
            for (String id : c.nodes.keySet()) {
                boolean applied = c.store(id).get(e.getKey()).isPresent();
                if (e.getValue() == ClusterLoadTest.Outcome.OK) {
                    assertTrue(applied, e.getKey() + " was acknowledged but is missing on " + id);
                } else if (e.getValue() == ClusterLoadTest.Outcome.NO_EFFECT) {
                    assertTrue(!applied, e.getKey() + " was answered 'no effect' but is applied on " + id);
                }
            }
            counts[e.getValue().ordinal()]++;
        }
        return counts;
    }
}
