package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static io.raftkv.it.ProcessCluster.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The classic lab with three real node processes (no containers): elect, replicate, SIGKILL the leader, elect again,
 * replicate on the survivors, restart the old leader and watch it rejoin as a follower of the higher term and catch
 * up, as its state machine and event log show. Then a whole-cluster crash keeps every acknowledged write.
 */
class LabScenarioIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void leaderCrashElectionAndCatchUp() throws Exception {
        Path root = Path.of("target/it-lab/" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3)) {
            cluster.startAll();
            String leader = await("a leader", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            long term1 = Long.parseLong(field(cluster.status(leader).orElseThrow(), "term"));

            assertEquals(200, cluster.putAtLeader(leader, "lab/x", "one", WAIT).statusCode());
            for (String id : cluster.ids()) {
                await(id + " applying lab/x", WAIT, () -> cluster.staleGet(id, "lab/x").filter("one"::equals));
            }

            cluster.kill(leader);
            List<String> survivors = new ArrayList<>(cluster.ids());
            survivors.remove(leader);
            String newLeader = await("a new leader", WAIT, () -> cluster.leaderAmong(survivors));
            long term2 = Long.parseLong(field(cluster.status(newLeader).orElseThrow(), "term"));
            assertTrue(term2 > term1, "new term " + term2 + " > " + term1);
            assertEquals(200, cluster.putAtLeader(newLeader, "lab/y", "two", WAIT).statusCode());
            for (String id : survivors) {
                await(id + " applying lab/y", WAIT, () -> cluster.staleGet(id, "lab/y").filter("two"::equals));
            }

            cluster.start(leader);
            await("the old leader catching up", WAIT, () -> cluster.staleGet(leader, "lab/y").filter("two"::equals));
            // It follows the survivors' leader (normally newLeader, unless leadership moved again meanwhile).
            String status = await("the old leader following a survivor", WAIT, () -> cluster.status(leader)
                    .filter(s -> "follower".equals(field(s, "role")) && survivors.contains(field(s, "leader"))));
            String following = field(status, "leader");
            assertTrue(Long.parseLong(field(status, "term")) >= term2, status);
            assertEquals(Optional.of("one"), cluster.staleGet(leader, "lab/x"));

            // Its files tell the story: the log, the state machine, and the event log's new leader line.
            Path dir = cluster.dataDir(leader);
            assertTrue(Files.exists(dir.resolve("wal/00000000000000000001.seg")), "wal/00000000000000000001.seg");
            assertTrue(Files.exists(dir.resolve("kv.db")), "kv.db");
            String events = Files.readString(dir.resolve("events.log"));
            assertTrue(events.contains("leader is now: " + following), events);
            assertTrue(events.contains("became leader for term " + term1), events);

            // Crash everyone at once, restart: every acknowledged write is still there.
            for (String id : cluster.ids()) {
                cluster.kill(id);
            }
            cluster.startAll();
            String leader3 = await("a leader after a full restart", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            for (String id : cluster.ids()) {
                await(id + " replaying lab/x and lab/y", WAIT, () -> cluster.staleGet(id, "lab/y").filter("two"::equals));
                assertEquals(Optional.of("one"), cluster.staleGet(id, "lab/x"));
            }
            assertEquals(200, cluster.putAtLeader(leader3, "lab/z", "three", WAIT).statusCode());

            // An operator moves leadership to a chosen follower.
            String current = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            String chosen = cluster.ids().stream().filter(id -> !id.equals(current)).findFirst().orElseThrow();
            var moved = cluster.post(current, "/v1/leader/transfer?to=" + chosen);
            assertEquals(200, moved.statusCode(), moved.body());
            assertEquals(chosen, field(moved.body(), "to"));
            await(chosen + " leading", WAIT, () -> cluster.leaderAmong(cluster.ids()).filter(chosen::equals));
            assertTrue(Files.readString(cluster.dataDir(current).resolve("events.log")).contains("handing leadership to " + chosen));
        }
    }

    @Test
    void aCorruptedLogStopsTheNodeWithAClearErrorAndIsLeftAsItIs() throws Exception {
        Path root = Path.of("target/it-lab/corrupt-" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3)) {
            Path file = cluster.dataDir("node1").resolve("wal/00000000000000000001.seg");
            Files.createDirectories(file.getParent());
            byte[] garbage = new byte[8192];
            new Random(42).nextBytes(garbage);
            Files.write(file, garbage);

            cluster.start("node1");
            Process p = cluster.process("node1");
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the node should exit by itself");
            assertTrue(p.exitValue() != 0, "non-zero exit status, got " + p.exitValue());
            String log = cluster.log("node1");
            assertTrue(log.contains(file.toAbsolutePath().normalize().toString()), "the error names the file:\n" + log);
            assertTrue(Arrays.equals(garbage, Files.readAllBytes(file)), "the file was not modified");
        }
    }
}
