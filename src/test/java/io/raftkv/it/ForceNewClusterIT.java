package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The disaster-recovery procedure of the README, on real processes: a 3-node cluster loses two members for good
 * (their data too); the survivor restarts with raftkv.force-new-cluster=true, leads alone with every acknowledged
 * write, and the other two come back on empty data directories with raftkv.join=true, adding themselves. Then the
 * survivor is killed: the two new members elect a leader that has everything. A survivor restarted with the flag
 * still set does not force again.
 */
class ForceNewClusterIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int WRITES = 30;

    @Test
    void aSurvivorStartsANewClusterFromItsDataAndTheOthersJoinItEmpty() throws Exception {
        Path root = Path.of("target/it-force-new-cluster/" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3)) {
            cluster.startAll();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            for (int i = 0; i < WRITES; i++) {
                HttpResponse<String> r = cluster.putAtLeader(leader, "dr/k" + i, "v" + i, WAIT);
                assertEquals(200, r.statusCode(), r.body());
            }
            String survivor = leader;
            List<String> lost = cluster.ids().stream().filter(id -> !id.equals(survivor)).toList();
            for (String id : cluster.ids()) {
                cluster.kill(id);
            }
            for (String id : lost) {
                ProcessCluster.deleteTree(cluster.dataDir(id)); // gone for good
            }

            cluster.env(survivor, "RAFTKV_FORCE_NEW_CLUSTER", "true");
            cluster.start(survivor);
            await(survivor + " leading alone", WAIT, () -> cluster.leaderAmong(List.of(survivor)));
            for (int i = 0; i < WRITES; i++) {
                HttpResponse<String> r = cluster.get(survivor, "/v1/kv/dr/k" + i).orElseThrow();
                assertEquals(200, r.statusCode(), "dr/k" + i + ": " + r.body());
                assertEquals("v" + i, r.body());
            }
            String events = Files.readString(cluster.dataDir(survivor).resolve("events.log"));
            assertTrue(events.contains("FORCED A NEW CLUSTER"), events);
            String members = cluster.get(survivor, "/v1/members").orElseThrow().body();
            for (String id : lost) {
                assertFalse(members.contains("\"id\":\"" + id + "\""), members);
            }
            assertEquals(200, cluster.putAtLeader(survivor, "dr/after-force", "x", WAIT).statusCode());

            // The lost members come back empty and add themselves (a chart's replicas do the same on a scale-up).
            for (String id : lost) {
                cluster.env(id, "RAFTKV_INITIAL_CLUSTER_STATE", "existing");
                cluster.env(id, "RAFTKV_JOIN", "true");
                cluster.env(id, "RAFTKV_JOIN_INTERVAL", "500ms");
                cluster.start(id);
                await(id + " a voter", WAIT, () -> cluster.get(survivor, "/v1/members").map(HttpResponse::body)
                        .filter(s -> s.matches("(?s).*\"id\":\"" + id + "\",[^}]*\"role\":\"voter\".*")));
                await("dr/after-force on " + id, WAIT, () -> cluster.staleGet(id, "dr/after-force"));
            }

            // Without the survivor, the two new members hold a quorum and every acknowledged write.
            cluster.kill(survivor);
            String next = await("a leader among " + lost, WAIT, () -> cluster.leaderAmong(lost));
            for (int i = 0; i < WRITES; i++) {
                HttpResponse<String> r = cluster.get(next, "/v1/kv/dr/k" + i).orElseThrow();
                assertEquals("v" + i, r.body(), "dr/k" + i + " on " + next);
            }
            assertEquals(200, cluster.putAtLeader(next, "dr/after-kill", "y", WAIT).statusCode());

            // The survivor restarted with the flag still set: ignored, it follows and catches up.
            cluster.start(survivor);
            await("dr/after-kill on " + survivor, WAIT, () -> cluster.staleGet(survivor, "dr/after-kill"));
            assertTrue(Files.readString(cluster.dataDir(survivor).resolve("events.log")).contains("ignored"),
                    "the second start with the flag does not force again");
            String m = cluster.get(next, "/v1/members").orElseThrow().body();
            assertEquals(3, m.split("\"role\":\"voter\"", -1).length - 1, m);
        }
    }
}
