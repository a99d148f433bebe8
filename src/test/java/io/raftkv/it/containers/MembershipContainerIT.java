package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Membership changes on real containers while a client writes: the cluster grows from 3 to 5 (the new nodes join by
 * themselves, as the chart's new ordinals do) with the leader SIGKILLed between a node's addition and its promotion;
 * a member whose volume is deleted comes back empty, is refused, and is replaced; then the cluster shrinks back to 3.
 * Every acknowledged write is then readable with its value, and every member has caught up.
 */
class MembershipContainerIT {

    private static final Duration WAIT = Duration.ofSeconds(90);

    private final Map<String, String> acknowledged = new ConcurrentHashMap<>();
    private final AtomicInteger attempts = new AtomicInteger();
    private volatile String leaderHint = "node1";

    @Test
    void growWithALeaderKillReplaceALostVolumeAndShrinkWhileAClientWrites() throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(3)) {
            cluster.start();
            leaderHint = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            AtomicBoolean running = new AtomicBoolean(true);
            Thread writer = new Thread(() -> write(cluster, running), "writer");
            writer.start();
            awaitAcknowledged(20);

            // Grow: node4 joins; the leader is killed once node4 is in the configuration but before it votes.
            cluster.addNode("node4");
            String leader = await("node4 in the configuration", WAIT, () -> leaderWith(cluster, "node4"));
            boolean killedMidChange = role(cluster, leader, "node4").equals("learner");
            cluster.kill(leader);
            String survivor = await("a new leader", WAIT, () -> cluster.leaderAmong(cluster.up()));
            awaitAcknowledged(acknowledged.size() + 10);
            // The kill shows in the metrics: the new leader has seen at least two leaders (the first one, then itself).
            String metrics = cluster.get(survivor, "/q/metrics").map(HttpResponse::body).orElseThrow();
            double changes = metrics.lines().filter(l -> l.startsWith("raftkv_server_leader_changes_seen_total "))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElse(0);
            assertTrue(changes >= 2, "raftkv_server_leader_changes_seen_total on " + survivor + ": " + changes);
            cluster.restart(leader);
            await("node4 a voter", WAIT, () -> voterOf(cluster, "node4"));
            cluster.addNode("node5");
            await("node5 a voter", WAIT, () -> voterOf(cluster, "node5"));
            awaitAcknowledged(acknowledged.size() + 10);
            System.out.printf("[membership-it] grown to 5; leader %s killed %s%n", leader,
                    killedMidChange ? "while node4 was a learner" : "after node4's promotion (it was quick)");

            // A member's volume is deleted: it comes back empty, may not vote, and is replaced in one call.
            String lost = cluster.leaderAmong(cluster.up()).filter(l -> !l.equals("node2")).map(l -> "node2").orElse("node3");
            cluster.wipe(lost);
            await(lost + " reporting it must be replaced", WAIT, () -> cluster.status(lost)
                    .filter(s -> s.contains("\"mustBeReplaced\"")));
            HttpResponse<String> replaced = atLeader(cluster, "POST", "/v1/members/" + lost + "/replace");
            assertEquals(200, replaced.statusCode(), replaced.body());
            await(lost + " a voter again", WAIT, () -> voterOf(cluster, lost));
            awaitAcknowledged(acknowledged.size() + 10);

            // Shrink to 3: node5 and node4 leave the configuration, then their containers go.
            for (String id : List.of("node5", "node4")) {
                HttpResponse<String> r = atLeader(cluster, "DELETE", "/v1/members/" + id);
                assertEquals(200, r.statusCode(), r.body());
                await(id + " gone from the configuration", WAIT, () -> members(cluster)
                        .filter(m -> !m.contains("\"id\":\"" + id + "\"")));
                cluster.stop(id);
            }
            awaitAcknowledged(acknowledged.size() + 10);
            running.set(false);
            writer.join(30_000);

            String finalLeader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.up()));
            assertEquals(3, countVoters(members(cluster).orElseThrow()));
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                HttpResponse<String> r = cluster.send(finalLeader, "GET", "/v1/kv/" + e.getKey(), null);
                assertEquals(200, r.statusCode(), e.getKey() + ": " + r.body());
                assertEquals(e.getValue(), r.body(), e.getKey());
            }
            for (String id : cluster.up()) {
                await("every acknowledged write on " + id, WAIT, () -> {
                    for (String key : acknowledged.keySet()) {
                        if (cluster.staleGet(id, key).isEmpty()) {
                            return Optional.empty();
                        }
                    }
                    return Optional.of(true);
                });
            }
            System.out.printf("[membership-it] %d writes attempted, %d acknowledged, all present on %s%n",
                    attempts.get(), acknowledged.size(), cluster.up());
        }
    }

    /** One client: unique keys, each tried once at the node it believes leads; only 200s count as acknowledged. */
    private void write(ContainerCluster cluster, AtomicBoolean running) {
        while (running.get()) {
            int n = attempts.getAndIncrement();
            String key = "m/k" + n;
            String value = "v" + n;
            try {
                HttpResponse<String> r = cluster.send(leaderHint, "PUT", "/v1/kv/" + key, value.getBytes(StandardCharsets.UTF_8));
                if (r.statusCode() == 200) {
                    acknowledged.put(key, value);
                } else {
                    cluster.leaderAmong(cluster.up()).ifPresent(l -> leaderHint = l);
                }
            } catch (Exception e) {
                cluster.leaderAmong(cluster.up()).ifPresent(l -> leaderHint = l);
            }
        }
    }

    private void awaitAcknowledged(int n) throws InterruptedException {
        await(n + " acknowledged writes", WAIT, () -> acknowledged.size() >= n ? Optional.of(true) : Optional.empty());
    }

    private static HttpResponse<String> atLeader(ContainerCluster cluster, String method, String path) throws Exception {
        return await(method + " " + path + " at the leader", WAIT, () -> cluster.leaderAmong(cluster.up()).flatMap(l -> {
            try {
                HttpResponse<String> r = cluster.send(l, method, path, null);
                return r.statusCode() == 307 || r.statusCode() == 503 || r.statusCode() == 409 ? Optional.empty() : Optional.of(r);
            } catch (Exception e) {
                return Optional.empty();
            }
        }));
    }

    private static Optional<String> members(ContainerCluster cluster) {
        return cluster.leaderAmong(cluster.up()).flatMap(l -> cluster.get(l, "/v1/members"))
                .filter(r -> r.statusCode() == 200).map(HttpResponse::body);
    }

    /** The leader, once its configuration has {@code id}. */
    private static Optional<String> leaderWith(ContainerCluster cluster, String id) {
        return cluster.leaderAmong(cluster.up()).filter(l -> cluster.get(l, "/v1/members").map(HttpResponse::body)
                .filter(b -> b.contains("\"id\":\"" + id + "\"")).isPresent());
    }

    private static String role(ContainerCluster cluster, String leader, String id) {
        String body = cluster.get(leader, "/v1/members").map(HttpResponse::body).orElse("");
        return body.matches("(?s).*\"id\":\"" + id + "\",[^}]*\"role\":\"learner\".*") ? "learner" : "voter";
    }

    private static Optional<Boolean> voterOf(ContainerCluster cluster, String id) {
        return members(cluster).filter(b -> b.matches("(?s).*\"id\":\"" + id + "\",[^}]*\"role\":\"voter\".*")).map(b -> true);
    }

    private static int countVoters(String membersJson) {
        return membersJson.split("\"role\":\"voter\"", -1).length - 1;
    }
}
