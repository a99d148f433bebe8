package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static io.raftkv.it.ProcessCluster.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The unguarded path of a member restarted on an empty data directory (issue 10): nodeA and nodeB hold a committed
 * write X that nodeC missed; nodeB loses its disk and comes back empty while nodeA is down. Without identities, nodeC
 * could win nodeB's vote and overwrite X. With them, nodeC refuses the messages of nodeB's new incarnation, so no
 * leader forms; once nodeA is back it leads with X, and replacing nodeB brings the new incarnation in as a member that
 * catches up.
 */
class LostDiskIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aMemberBackOnAnEmptyDataDirectoryCannotHelpLoseACommittedWriteAndIsReplaced() throws Exception {
        Path root = Path.of("target/it-lost-disk/" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3)) {
            cluster.startAll();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            String c = followers.get(0);            // misses X
            String b = followers.get(1);            // holds X, then loses its disk
            String a = leader;                       // holds X, down while b comes back
            HttpResponse<String> warm = cluster.putAtLeader(a, "lost/warm", "w", WAIT);
            assertEquals(200, warm.statusCode(), warm.body());
            await("every node heard from every other", WAIT, () -> cluster.staleGet(c, "lost/warm"));

            cluster.kill(c);
            HttpResponse<String> x = cluster.putAtLeader(a, "lost/x", "committed", WAIT);
            assertEquals(200, x.statusCode(), "X committed on " + a + " and " + b + ": " + x.body());

            cluster.kill(a);
            cluster.kill(b);
            ProcessCluster.deleteTree(cluster.dataDir(b));         // b's volume is gone
            cluster.start(b);
            cluster.start(c);

            // c refuses b's new incarnation, and b learns that it must be replaced.
            await(c + " refusing " + b + "'s new incarnation", WAIT, () -> cluster.status(c)
                    .filter(s -> s.contains("\"incarnation\":") && s.matches("(?s).*\"refusedPeerMessages\":\\{[^}]*\"incarnation\":[1-9].*")));
            String bStatus = await(b + " reporting it must be replaced", WAIT, () -> cluster.status(b)
                    .filter(s -> s.contains("\"mustBeReplaced\"")));
            assertTrue(bStatus.contains("replace"), bStatus);
            assertTrue(cluster.leaderAmong(List.of(b, c)).isEmpty(), "no leader without a real quorum");
            assertTrue(Files.readString(cluster.dataDir(c).resolve("events.log")).contains("REFUSED " + b));

            // a comes back: a and c form the quorum, a leads (c's log lacks X), X survives and reaches c.
            cluster.start(a);
            String newLeader = await("a leader with " + a + " back", WAIT, () -> cluster.leaderAmong(List.of(a, c)));
            HttpResponse<String> read = cluster.get(newLeader, "/v1/kv/lost/x").orElseThrow();
            assertEquals(200, read.statusCode(), read.body());
            assertEquals("committed", read.body(), "the acknowledged write survived");
            await("X on " + c, WAIT, () -> cluster.staleGet(c, "lost/x").filter("committed"::equals));

            // Replace b by its new incarnation: removed, added as a learner, promoted once caught up.
            HttpResponse<String> replaced = cluster.post(newLeader, "/v1/members/" + b + "/replace");
            assertEquals(200, replaced.statusCode(), replaced.body());
            await(b + " a voter again", WAIT, () -> cluster.get(newLeader, "/v1/members")
                    .map(HttpResponse::body)
                    .filter(s -> s.matches("(?s).*\"id\":\"" + b + "\",[^}]*\"role\":\"voter\".*")));
            await("X on the new " + b, WAIT, () -> cluster.staleGet(b, "lost/x").filter("committed"::equals));
            await(b + " accepted again", WAIT, () -> cluster.status(b).filter(s -> !s.contains("\"mustBeReplaced\"")));
            HttpResponse<String> after = cluster.putAtLeader(newLeader, "lost/after", "ok", WAIT);
            assertEquals(200, after.statusCode(), after.body());
            await("the write after the replacement on " + b, WAIT, () -> cluster.staleGet(b, "lost/after"));
            assertNotNull(field(cluster.status(b).orElseThrow(), "clusterId"));
        }
    }
}
