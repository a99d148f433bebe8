package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static io.raftkv.it.containers.ContainerCluster.field;
import static io.raftkv.it.containers.ContainerCluster.longField;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.transport.MessageCodec;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Every endpoint and every error path, against the image under test ({@code it.image}: raftkv:jvm or raftkv:native).
 * What the JVM finds by reflection at run time and a native executable must have registered at build time (Jackson
 * bodies, problem bodies, MapDB serializers, logging, the peer codec) fails here rather than at a user's. Each error
 * must be a problem JSON body with the right status, and no rejected request may change any node's state.
 */
class ApiSmokeContainerIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String PROBLEM = "application/problem+json";

    @Test
    void everyEndpointAndErrorPath() throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(3)) {
            cluster.start();
            String leader = await("a leader", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();

            // Health and metrics.
            assertEquals(200, cluster.send(leader, "GET", "/q/health/live", null).statusCode());
            for (String id : cluster.ids()) {
                await(id + " ready", WAIT, () -> cluster.get(id, "/q/health/ready").filter(r -> r.statusCode() == 200));
            }
            HttpResponse<String> metrics = cluster.send(leader, "GET", "/q/metrics", null);
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("raftkv_term") && metrics.body().contains("raftkv_server_is_leader 1.0"), metrics.body());

            // Writes, reads, listing.
            HttpResponse<String> put = cluster.send(leader, "PUT", "/v1/kv/smoke/a", bytes("alpha"));
            assertEquals(200, put.statusCode(), put.body());
            assertEquals("application/json", contentType(put));
            assertEquals("smoke/a", field(put.body(), "key"));
            long version = longField(put.body(), "version");
            HttpResponse<String> get = cluster.send(leader, "GET", "/v1/kv/smoke/a", null);
            assertEquals(200, get.statusCode());
            assertEquals("alpha", get.body());
            assertEquals(Optional.of(Long.toString(version)), get.headers().firstValue("X-Raftkv-Version"));
            byte[] binary = new byte[300];
            for (int i = 0; i < binary.length; i++) {
                binary[i] = (byte) i;
            }
            assertEquals(200, cluster.send(leader, "PUT", "/v1/kv/smoke/bin", binary, "Content-Type", "application/octet-stream").statusCode());
            HttpResponse<byte[]> back = cluster.sendForBytes(leader, "/v1/kv/smoke/bin");
            assertTrue(Arrays.equals(binary, back.body()), "binary value read back unchanged");
            await(follower + " applying smoke/a", WAIT, () -> cluster.staleGet(follower, "smoke/a").filter("alpha"::equals));
            HttpResponse<String> list = cluster.send(leader, "GET", "/v1/kv?prefix=smoke/&limit=1", null);
            assertEquals(200, list.statusCode(), list.body());
            assertTrue(list.body().contains("\"key\":\"smoke/a\"") && list.body().contains("\"size\":5")
                    && list.body().contains("\"more\":true"), list.body());

            // Conditional writes.
            HttpResponse<String> cas = cluster.send(leader, "PUT", "/v1/kv/smoke/a?ifVersion=" + version, bytes("beta"));
            assertEquals(200, cas.statusCode(), cas.body());
            long version2 = longField(cas.body(), "version");
            HttpResponse<String> lost = cluster.send(leader, "PUT", "/v1/kv/smoke/a?ifVersion=" + version, bytes("gamma"));
            assertProblem(409, lost);
            assertEquals(version2, longField(lost.body(), "currentVersion"));
            assertProblem(409, cluster.send(leader, "PUT", "/v1/kv/smoke/a?ifVersion=0", bytes("create-only")));
            assertEquals(200, cluster.send(leader, "PUT", "/v1/kv/smoke/a?ifValue=beta", bytes("delta")).statusCode());
            assertProblem(409, cluster.send(leader, "PUT", "/v1/kv/smoke/a?ifValue=beta", bytes("epsilon")));
            assertProblem(409, cluster.send(leader, "DELETE", "/v1/kv/smoke/a?ifVersion=" + version2, null));
            assertEquals("delta", cluster.send(leader, "GET", "/v1/kv/smoke/a", null).body());
            HttpResponse<String> del = cluster.send(leader, "DELETE", "/v1/kv/smoke/a", null);
            assertEquals(200, del.statusCode());
            assertEquals("true", field(del.body(), "deleted"));
            assertEquals("false", field(cluster.send(leader, "DELETE", "/v1/kv/smoke/a", null).body(), "deleted"));
            HttpResponse<String> missing = cluster.send(leader, "GET", "/v1/kv/smoke/a", null);
            assertProblem(404, missing);
            assertEquals("smoke/a", field(missing.body(), "key"));

            // Bad input: 400/404/405/413, and none of it written.
            assertProblem(400, cluster.send(leader, "PUT", "/v1/kv/" + "k".repeat(1025), bytes("v")));
            assertProblem(413, cluster.send(leader, "PUT", "/v1/kv/smoke/big", new byte[1024 * 1024 + 1]));
            assertProblem(400, cluster.send(leader, "PUT", "/v1/kv/smoke/p?ifVersion=abc", bytes("v")));
            assertProblem(400, cluster.send(leader, "PUT", "/v1/kv/smoke/p?ifVersion=-1", bytes("v")));
            assertProblem(400, cluster.send(leader, "PUT", "/v1/kv/smoke/p?ifVersion=1&ifValue=x", bytes("v")));
            assertProblem(400, cluster.send(leader, "GET", "/v1/kv/smoke/p?consistency=eventual", null));
            assertProblem(400, cluster.send(leader, "GET", "/v1/kv?limit=0", null));
            assertProblem(400, cluster.send(leader, "GET", "/v1/kv?limit=many", null));
            assertProblem(404, cluster.send(leader, "GET", "/v1/nothing-here", null));
            assertProblem(405, cluster.send(leader, "POST", "/v1/kv/smoke/p", bytes("v")));
            assertProblem(404, cluster.send(leader, "GET", "/v1/kv/smoke/p", null));
            assertProblem(404, cluster.send(leader, "GET", "/v1/kv/smoke/big", null));

            // A follower redirects writes and linearizable reads to the leader, and serves stale reads itself.
            HttpResponse<String> redirect = cluster.send(follower, "PUT", "/v1/kv/smoke/r?ifVersion=0", bytes("v"));
            assertProblem(307, redirect);
            assertEquals(leader, field(redirect.body(), "leader"));
            assertEquals(Optional.of("http://" + leader + ":8080/v1/kv/smoke/r?ifVersion=0"), redirect.headers().firstValue("Location"));
            assertProblem(307, cluster.send(follower, "GET", "/v1/kv/smoke/bin", null));
            assertEquals(200, cluster.send(follower, "GET", "/v1/kv/smoke/bin?consistency=stale", null).statusCode());
            assertProblem(307, cluster.send(follower, "POST", "/v1/leader/transfer", null));

            // Status.
            HttpResponse<String> status = cluster.send(follower, "GET", "/v1/status", null);
            assertEquals(200, status.statusCode());
            assertEquals(follower, field(status.body(), "id"));
            assertEquals("follower", field(status.body(), "role"));
            assertEquals(leader, field(status.body(), "leader"));
            assertEquals(ContainerCluster.IMAGE.contains("native") ? "native" : "jvm", field(status.body(), "runtime"),
                    "the image runs the build it is named after");

            // No peer endpoint on the client port: peers talk on their own mutual-TLS listener (PeerAttackIT tries it).
            long term = longField(cluster.status(follower).orElseThrow(), "term");
            byte[] forged = MessageCodec.encode(List.of(Message.builder(MessageType.HEARTBEAT, leader, follower, term + 5)
                    .commit(1_000_000).build()));
            String third = cluster.ids().stream().filter(id -> !id.equals(leader) && !id.equals(follower)).findFirst().orElseThrow();
            assertEquals(404, cluster.send(follower, "POST", "/raft/messages", forged, "X-Raftkv-From", leader).statusCode());
            assertEquals(404, cluster.send(follower, "POST", "/raft/snapshot", new byte[10], "X-Raftkv-From", leader).statusCode());
            assertTrue(status.body().contains("\"tls\":true"), "peers on mutual TLS: " + status.body());
            assertEquals(term, longField(cluster.status(follower).orElseThrow(), "term"), "a refused batch changed the term");

            // Membership: list, add a learner (stays one), the refusals, remove it; session headers on a write.
            HttpResponse<String> members = cluster.send(leader, "GET", "/v1/members", null);
            assertEquals(200, members.statusCode(), members.body());
            assertTrue(members.body().contains("\"role\":\"voter\""), members.body());
            HttpResponse<String> added = cluster.send(leader, "POST", "/v1/members",
                    bytes("{\"id\":\"spare\",\"url\":\"http://spare:8080\",\"learner\":true}"), "Content-Type", "application/json");
            assertEquals(200, added.statusCode(), added.body());
            assertTrue(added.body().contains("\"learners\":[\"spare\"]"), added.body());
            assertProblem(400, cluster.send(leader, "POST", "/v1/members", bytes("{\"id\":\"spare\",\"url\":\"http://spare:8080\"}"),
                    "Content-Type", "application/json"));
            assertProblem(400, cluster.send(leader, "POST", "/v1/members", bytes("{not json"), "Content-Type", "application/json"));
            assertEquals(307, cluster.send(follower, "DELETE", "/v1/members/spare", null).statusCode());
            HttpResponse<String> removed = cluster.send(leader, "DELETE", "/v1/members/spare", null);
            assertEquals(200, removed.statusCode(), removed.body());
            assertProblem(400, cluster.send(leader, "DELETE", "/v1/members/spare", null));
            HttpResponse<String> once = cluster.send(leader, "PUT", "/v1/kv/smoke/once", bytes("1"),
                    "Raftkv-Client-Id", "smoke-client", "Raftkv-Request-Seq", "1");
            HttpResponse<String> retried = cluster.send(leader, "PUT", "/v1/kv/smoke/once", bytes("1"),
                    "Raftkv-Client-Id", "smoke-client", "Raftkv-Request-Seq", "1");
            assertEquals(200, retried.statusCode(), retried.body());
            assertEquals("true", retried.headers().firstValue("Raftkv-Duplicate").orElse(null), retried.body());
            assertEquals(field(once.body(), "index"), field(retried.body(), "index"));

            // An on-demand snapshot, and the status that reports it.
            HttpResponse<String> snap = cluster.send(leader, "POST", "/v1/snapshot", null);
            assertEquals(200, snap.statusCode(), snap.body());
            assertTrue(longField(snap.body(), "index") > 0, snap.body());
            assertTrue(cluster.status(leader).orElseThrow().contains("\"index\":" + field(snap.body(), "index")), "status shows the snapshot");

            // Leadership transfer: unknown target, then a real hand-over.
            assertProblem(400, cluster.send(leader, "POST", "/v1/leader/transfer?to=nobody", null));
            HttpResponse<String> transfer = cluster.send(leader, "POST", "/v1/leader/transfer?to=" + follower, null);
            assertEquals(200, transfer.statusCode(), transfer.body());
            assertEquals(follower, field(transfer.body(), "to"));
            await(follower + " leading", WAIT, () -> cluster.leaderAmong(cluster.ids()).filter(follower::equals));

            // No quorum: a lone node answers 503 with Retry-After for writes and linearizable reads, and still
            // serves stale reads.
            List<String> others = cluster.ids().stream().filter(id -> !id.equals(third)).toList();
            others.forEach(cluster::kill);
            await(third + " knowing no leader", WAIT, () -> cluster.status(third).filter(s -> "null".equals(field(s, "leader"))));
            HttpResponse<String> unavailable = cluster.send(third, "PUT", "/v1/kv/smoke/q", bytes("v"));
            assertProblem(503, unavailable);
            assertTrue(unavailable.headers().firstValue("Retry-After").isPresent(), "Retry-After on a 503");
            assertProblem(503, cluster.send(third, "GET", "/v1/kv/smoke/bin", null));
            assertEquals(200, cluster.send(third, "GET", "/v1/kv/smoke/bin?consistency=stale", null).statusCode());
            assertEquals(503, cluster.send(third, "GET", "/q/health/ready", null).statusCode());

            // Back together, the cluster serves again and nothing rejected above was written.
            for (String id : others) {
                cluster.restart(id);
            }
            String again = await("a leader after the restarts", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            await("a write after the restarts", WAIT, () -> {
                try {
                    String current = cluster.leaderAmong(cluster.ids()).orElse(again);
                    return Optional.of(cluster.send(current, "PUT", "/v1/kv/smoke/after", bytes("ok"))).filter(r -> r.statusCode() == 200);
                } catch (Exception e) {
                    return Optional.empty();
                }
            });
            for (String id : cluster.ids()) {
                await(id + " applying smoke/after", WAIT, () -> cluster.staleGet(id, "smoke/after").filter("ok"::equals));
                for (String key : List.of("smoke/q", "smoke/p", "smoke/big", "smoke/r", "smoke/a")) {
                    assertEquals(Optional.empty(), cluster.staleGet(id, key), id + " holds " + key);
                }
                String events = cluster.fileOf(id, "/data/events.log");
                assertTrue(events.contains("leader is now"), id + "'s event log: " + events);
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String contentType(HttpResponse<?> r) {
        return r.headers().firstValue("Content-Type").map(v -> v.split(";")[0].trim()).orElse("");
    }

    private static void assertProblem(int status, HttpResponse<String> r) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(PROBLEM, contentType(r), "content type of a " + status + ": " + r.headers().map());
        assertEquals(Long.toString(status), field(r.body(), "status"), r.body());
        assertTrue(field(r.body(), "title") != null, "a problem title: " + r.body());
    }
}
