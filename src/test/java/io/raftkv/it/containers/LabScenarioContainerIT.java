package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static io.raftkv.it.containers.ContainerCluster.field;
import static io.raftkv.it.containers.ContainerCluster.longField;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The lab with real containers: kill -9 the leader, watch a new one take over, restart the old one on its volume and
 * see it rejoin as a follower of the higher term with the new value in its state machine and log; then crash the
 * whole cluster and find every acknowledged write; then measure a 10,000-entry catch-up.
 */
class LabScenarioContainerIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void leaderKilledNewLeaderOldLeaderCatchesUp() throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(3)) {
            cluster.start();
            String leader = await("a leader", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            long term1 = longField(cluster.status(leader).orElseThrow(), "term");

            await("lab/x committed", WAIT, () -> {
                try {
                    String current = cluster.leaderAmong(cluster.ids()).orElse(leader);
                    return Optional.of(cluster.put(current, "lab/x", "one", Duration.ofSeconds(5))).filter(r -> r.statusCode() == 200);
                } catch (Exception e) {
                    return Optional.empty();
                }
            });
            for (String id : cluster.ids()) {
                await(id + " applying lab/x", WAIT, () -> cluster.staleGet(id, "lab/x").filter("one"::equals));
            }

            long killedAt = System.nanoTime();
            cluster.kill(leader);
            List<String> survivors = cluster.up();
            String newLeader = await("a new leader", WAIT, () -> cluster.leaderAmong(survivors));
            HttpResponse<String> second = await("the new leader committing lab/y", WAIT, () -> {
                try {
                    String current = cluster.leaderAmong(survivors).orElse(newLeader);
                    return Optional.of(cluster.put(current, "lab/y", "two", Duration.ofSeconds(5))).filter(r -> r.statusCode() == 200);
                } catch (Exception e) {
                    return Optional.empty();
                }
            });
            long failoverMs = (System.nanoTime() - killedAt) / 1_000_000;
            Figures.record("failover (SIGKILL of the leader -> first write committed by the new leader)", failoverMs + " ms");
            long term2 = longField(cluster.status(newLeader).orElseThrow(), "term");
            assertTrue(term2 > term1, "term " + term2 + " > " + term1);
            long yIndex = longField(second.body(), "index");
            for (String id : survivors) {
                await(id + " applying lab/y", WAIT, () -> cluster.staleGet(id, "lab/y").filter("two"::equals));
            }

            cluster.restart(leader);
            await("the old leader applying lab/y", WAIT, () -> cluster.staleGet(leader, "lab/y").filter("two"::equals));
            String status = await("the old leader following a survivor", WAIT, () -> cluster.status(leader)
                    .filter(s -> "follower".equals(field(s, "role")) && survivors.contains(field(s, "leader"))));
            String following = field(status, "leader");
            assertTrue(longField(status, "term") >= term2, status);
            assertTrue(longField(status, "lastIndex") >= yIndex, "its log holds lab/y's entry: " + status);
            assertEquals(Optional.of("one"), cluster.staleGet(leader, "lab/x"));
            String events = cluster.fileOf(leader, "/data/events.log");
            assertTrue(events.contains("became leader for term " + term1), events);
            assertTrue(events.contains("leader is now: " + following), events);

            // Every node killed at once, then started again: every acknowledged write is there.
            for (String id : cluster.ids()) {
                cluster.kill(id);
            }
            for (String id : cluster.ids()) {
                cluster.restart(id);
            }
            String leader3 = await("a leader after a full restart", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            for (String id : cluster.ids()) {
                await(id + " replaying its log", WAIT, () -> cluster.staleGet(id, "lab/y").filter("two"::equals));
                assertEquals(Optional.of("one"), cluster.staleGet(id, "lab/x"));
            }

            // Catch-up: a follower misses 10,000 entries, then restarts.
            String follower = cluster.ids().stream().filter(id -> !id.equals(leader3)).findFirst().orElseThrow();
            cluster.kill(follower);
            writeMany(cluster, leader3, 10_000);
            String leader4 = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.up()));
            long target = longField(cluster.status(leader4).orElseThrow(), "commitIndex");
            long restartAt = System.nanoTime();
            cluster.restart(follower);
            long upAt = System.nanoTime();
            await(follower + " catching up to " + target, Duration.ofSeconds(120), () -> cluster.status(follower)
                    .filter(s -> longField(s, "lastApplied") >= target));
            long doneAt = System.nanoTime();
            Figures.record("catch-up of 10,000 entries by a restarted follower",
                    (doneAt - upAt) / 1_000_000 + " ms after it answered HTTP (" + (doneAt - restartAt) / 1_000_000
                            + " ms from docker start)");
            assertEquals(Optional.of("v-9999"), cluster.staleGet(follower, "bulk/9999"));
        }
    }

    /**
     * Writes {@code n} keys with 16 concurrent clients. Like a real client, each retries a write that was refused
     * without effect (307/503, e.g. after a leader change on a loaded machine) at the current leader.
     */
    private static void writeMany(ContainerCluster cluster, String leader, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                results.add(pool.submit(() -> {
                    String target = leader;
                    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                    while (true) {
                        HttpResponse<String> r = cluster.put(target, "bulk/" + k, "v-" + k, Duration.ofSeconds(30));
                        if (r.statusCode() != 307 && r.statusCode() != 503 || System.nanoTime() > deadline) {
                            return r.statusCode();
                        }
                        target = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.up()));
                    }
                }));
            }
            for (Future<Integer> f : results) {
                assertEquals(200, f.get());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
