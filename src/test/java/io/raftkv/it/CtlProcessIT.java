package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.cli.CtlRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * raftkvctl against three real node processes: a watch that lives through a SIGKILL of the leader (it reconnects to
 * another member and resumes: every acknowledged write exactly once, in index order), writes retried across the
 * leader change, status and check with a member down, leadership transfer, membership changes, snapshot save, and the
 * packaged artifact's {@code ctl} entry point.
 */
class CtlProcessIT {

    @TempDir
    Path root;

    @Test
    void theCliDrivesAClusterAndAWatchSurvivesALeaderKill() throws Exception {
        try (ProcessCluster c = new ProcessCluster(root, 3)) {
            c.startAll();
            List<String> ids = c.ids();
            String leader = await("a leader", Duration.ofSeconds(60), () -> c.leaderAmong(ids));
            List<String> order = new ArrayList<>(List.of(leader));
            ids.stream().filter(id -> !id.equals(leader)).forEach(order::add);
            String endpoints = String.join(",", order.stream().map(c::url).toList());
            Map<String, String> env = Map.of("RAFTKV_ENDPOINTS", endpoints);

            int n = 60;
            AtomicReference<CtlRun> watch = new AtomicReference<>();
            Thread watcher = new Thread(() -> watch.set(CtlRun.of(env, "watch", "k/", "--from-index", "1", "--count",
                    String.valueOf(n))), "ctl-watch");
            watcher.start();
            long killedAt = 0;
            for (int i = 0; i < n; i++) {
                if (i == n / 3) {
                    c.kill(leader); // SIGKILL the leader the watch is connected to, mid-stream
                    killedAt = System.nanoTime();
                }
                CtlRun put = CtlRun.of(env, "put", "k/" + i, "v" + i);
                assertEquals(0, put.status(), "put k/" + i + ": " + put);
                if (i == n / 3) {
                    System.out.println("CtlProcessIT: first write after the leader kill acknowledged "
                            + (System.nanoTime() - killedAt) / 1_000_000 + " ms after it");
                }
            }
            watcher.join(60_000);
            CtlRun w = watch.get();
            assertTrue(w != null && w.status() == 0, "the watch ended: " + w);
            List<String> lines = w.out().lines().toList();
            assertEquals(n, lines.size(), w.toString());
            Pattern line = Pattern.compile("PUT k/(\\d+) = v\\1  \\(version (\\d+), index \\2\\)");
            Set<String> keys = new HashSet<>();
            long last = 0;
            for (String l : lines) {
                Matcher m = line.matcher(l);
                assertTrue(m.matches(), l);
                assertTrue(keys.add(m.group(1)), "k/" + m.group(1) + " seen twice: " + lines);
                long index = Long.parseLong(m.group(2));
                assertTrue(index > last, "index order: " + lines);
                last = index;
            }
            assertTrue(w.err().contains("trying the next endpoint") || w.err().isEmpty(), w.err());

            // A member down: status shows it, check fails.
            CtlRun status = CtlRun.of(env, "status");
            assertEquals(0, status.status(), status.toString());
            assertTrue(status.out().lines().anyMatch(l -> l.startsWith(leader) && l.contains("unreachable")), status.out());
            assertEquals(2, status.out().lines().filter(l -> l.matches(".*\\s(leader|follower)\\s.*")).count(), status.out());
            CtlRun check = CtlRun.of(env, "check");
            assertEquals(1, check.status(), check.toString());
            assertTrue(check.out().contains("UNHEALTHY"), check.out());
            System.out.println(status.out());

            c.start(leader);
            Waits.await("check healthy after the restart", Duration.ofSeconds(60), 200,
                    () -> Optional.of(CtlRun.of(env, "check")).filter(r -> r.status() == 0));

            String now = await("a leader", Duration.ofSeconds(30), () -> c.leaderAmong(ids));
            String target = ids.stream().filter(id -> !id.equals(now)).findFirst().orElseThrow();
            CtlRun transfer = CtlRun.of(env, "leader", "transfer", target);
            assertEquals(0, transfer.status(), transfer.toString());
            assertTrue(transfer.out().startsWith("leadership handed from " + now + " to " + target), transfer.out());

            CtlRun add = CtlRun.of(env, "members", "add", "node9", "http://127.0.0.1:1", "--learner");
            assertEquals(0, add.status(), add.toString());
            assertTrue(CtlRun.of(env, "members", "list").out().lines().anyMatch(l -> l.matches("node9\\s+http://127.0.0.1:1\\s+learner.*")));
            assertEquals(0, CtlRun.of(env, "members", "remove", "node9").status());
            assertEquals(1, CtlRun.of(env, "members", "remove", "node9").status(), "no longer a member: 400");

            Path snap = root.resolve("backup.snap");
            CtlRun save = CtlRun.of(env, "snapshot", "save", snap.toString());
            assertEquals(0, save.status(), save.toString());
            assertTrue(save.out().contains("from the leader http://127.0.0.1:"), save.out());

            // The packaged artifact's own entry point, as scripts/raftkvctl runs it.
            long started = System.nanoTime();
            ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString(), "ctl",
                    "--endpoints", endpoints, "get", "k/7");
            pb.redirectErrorStream(true);
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), out);
            assertEquals("v7\n", out);
            System.out.println("CtlProcessIT: `java -jar quarkus-run.jar ctl get` took " + (System.nanoTime() - started) / 1_000_000 + " ms");
        }
    }
}
