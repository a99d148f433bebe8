package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static io.raftkv.it.containers.ContainerCluster.field;
import static io.raftkv.it.containers.ContainerCluster.longField;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A leader cut off from its peers (iptables in its network namespace): the majority elects a new leader and commits;
 * the isolated node acknowledges no write; after healing it steps down and its uncommitted entry is discarded.
 */
class PartitionIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void isolatedLeaderAcknowledgesNothingAndStepsDownOnHeal() throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(3)) {
            cluster.start();
            String leader = await("a leader", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            assertEquals(200, cluster.put(leader, "p/before", "1", WAIT).statusCode());

            cluster.isolate(leader);
            // A write sent to the isolated leader: it may append it, but can never commit it.
            CompletableFuture<HttpResponse<String>> lonely = CompletableFuture.supplyAsync(() -> {
                try {
                    return cluster.put(leader, "p/lonely", "lost", Duration.ofSeconds(20));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            List<String> majority = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            String newLeader = await("a leader in the majority", WAIT, () -> cluster.leaderAmong(majority));
            await("the majority committing p/after", WAIT, () -> {
                try {
                    String current = cluster.leaderAmong(majority).orElse(newLeader);
                    return Optional.of(cluster.put(current, "p/after", "2", Duration.ofSeconds(5))).filter(r -> r.statusCode() == 200);
                } catch (Exception e) {
                    return Optional.empty();
                }
            });
            long newTerm = longField(cluster.status(newLeader).orElseThrow(), "term");

            HttpResponse<String> lonelyResponse = lonely.get();
            assertNotEquals(200, lonelyResponse.statusCode(), "the isolated leader acknowledged a write: " + lonelyResponse.body());
            // CheckQuorum: the isolated leader has stepped down by itself.
            await("the isolated node to step down", WAIT, () -> cluster.status(leader).filter(s -> !"leader".equals(field(s, "role"))));

            cluster.heal(leader);
            String status = await("the old leader following the majority's leader", WAIT, () -> cluster.status(leader)
                    .filter(s -> "follower".equals(field(s, "role")) && majority.contains(field(s, "leader"))));
            assertTrue(longField(status, "term") >= newTerm, status);
            await("the old leader applying p/after", WAIT, () -> cluster.staleGet(leader, "p/after").filter("2"::equals));
            // The entry it appended while isolated was never committed and is gone everywhere.
            for (String id : cluster.ids()) {
                assertEquals(Optional.empty(), cluster.staleGet(id, "p/lonely"), id);
                assertEquals(Optional.of("1"), cluster.staleGet(id, "p/before"), id);
            }
            String current = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            assertEquals(404, cluster.get(current, "/v1/kv/p/lonely").orElseThrow().statusCode());
        }
    }
}
