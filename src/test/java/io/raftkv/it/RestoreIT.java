package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.cli.CtlRun;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The backup and restore path of the README, on real processes: scheduled-style backups of a 3-node cluster
 * ({@code raftkvctl snapshot save --dir --retain}), the cluster lost, and a new cluster started from the newest backup
 * ({@code raftkv restore}): one member restored, two joining it empty; every write of the backup is there (deletes
 * and client sessions included), nothing after it, and the new cluster survives the loss of the restored member.
 */
class RestoreIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @Test
    void aNewClusterStartsFromTheNewestBackupAndHasEverythingInIt() throws Exception {
        Path root = Path.of("target/it-restore/" + System.currentTimeMillis()).toAbsolutePath();
        Path backups = Files.createDirectories(root.resolve("backups"));
        int keys = 40;
        try (ProcessCluster old = new ProcessCluster(root.resolve("old"), 3)) {
            old.startAll();
            String leader = await("a leader", WAIT, () -> old.leaderAmong(old.ids()));
            Map<String, String> env = Map.of("RAFTKV_ENDPOINTS", String.join(",", old.ids().stream().map(old::url).toList()));
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < keys; i++) {
                    assertEquals(200, old.putAtLeader(leader, "r/k" + i, "v" + i + "-" + round, WAIT).statusCode());
                }
                CtlRun save = CtlRun.of(env, "snapshot", "save", "--dir", backups.toString(), "--retain", "2");
                assertEquals(0, save.status(), save.toString());
                // The backup names carry the time to the second: the next one must be in a later second.
                long second = java.time.Instant.now().getEpochSecond();
                await("the next second", WAIT, () -> java.time.Instant.now().getEpochSecond() > second
                        ? Optional.of(true) : Optional.empty());
            }
            assertEquals(200, old.putAtLeader(leader, "r/deleted", "x", WAIT).statusCode());
            assertEquals(200, atLeader(old, "PUT", "/v1/kv/r/session", "first", SESSION).statusCode());
            HttpResponse<String> del = atLeader(old, "DELETE", "/v1/kv/r/deleted", null, Map.of());
            assertEquals(2, del.statusCode() / 100, del.body());
            CtlRun last = CtlRun.of(env, "-o", "json", "snapshot", "save", "--dir", backups.toString(), "--retain", "2");
            assertEquals(0, last.status(), last.toString());
            assertTrue(last.out().contains("\"deleted\":[\""), "the oldest backups beyond 2 are deleted: " + last.out());
            assertEquals(200, old.putAtLeader(leader, "r/after-backup", "lost", WAIT).statusCode());
        }
        List<Path> files = backupFiles(backups);
        assertEquals(2, files.size(), "--retain 2 keeps two: " + files);
        Path newest = files.get(files.size() - 1);

        try (ProcessCluster fresh = new ProcessCluster(root.resolve("new"), 3)) {
            Path dir = fresh.dataDir("node1");
            Path damaged = root.resolve("damaged.snap");
            byte[] bytes = Files.readAllBytes(newest);
            Files.write(damaged, java.util.Arrays.copyOf(bytes, bytes.length - 7));
            Result bad = restore(damaged.toString(), "--data-dir", dir.toString(), "--node-id", "node1");
            assertEquals(1, bad.status, bad.out);
            assertFalse(Files.exists(dir.resolve("identity")), "a damaged file restores nothing");
            CtlRun only = CtlRun.of(Map.of(), "snapshot", "restore", newest.toString(), "--data-dir",
                    fresh.dataDir("node2").toString(), "--node-id", "node2", "--only", "node1");
            assertEquals(0, only.status(), "raftkvctl snapshot restore --only: another member does nothing: " + only);
            assertTrue(only.out().contains("nothing to do for node2"), only.toString());
            assertFalse(Files.exists(fresh.dataDir("node2").resolve("identity")));

            Result ok = restore(newest.toString(), "--data-dir", dir.toString(), "--node-id", "node1");
            assertEquals(0, ok.status, ok.out);
            assertTrue(ok.out.contains("only member is node1"), ok.out);
            assertEquals(2, restore(newest.toString(), "--data-dir", dir.toString(), "--node-id", "node1").status,
                    "a second restore into the same directory is refused");
            assertEquals(0, restore(newest.toString(), "--data-dir", dir.toString(), "--node-id", "node1", "--if-empty").status);

            fresh.start("node1");
            await("node1 leading alone", WAIT, () -> fresh.leaderAmong(List.of("node1")));
            for (int i = 0; i < keys; i++) {
                HttpResponse<String> r = fresh.get("node1", "/v1/kv/r/k" + i).orElseThrow();
                assertEquals(200, r.statusCode(), "r/k" + i + ": " + r.body());
                assertEquals("v" + i + "-2", r.body());
            }
            assertEquals(404, fresh.get("node1", "/v1/kv/r/deleted").orElseThrow().statusCode(), "the delete is restored");
            assertEquals(404, fresh.get("node1", "/v1/kv/r/after-backup").orElseThrow().statusCode(),
                    "a write after the backup is not in it");
            // The client session came along: the same request again is answered, not applied a second time.
            HttpResponse<String> retry = atLeader(fresh, "PUT", "/v1/kv/r/session", "second", SESSION);
            assertEquals(200, retry.statusCode(), retry.body());
            assertEquals("first", fresh.get("node1", "/v1/kv/r/session").orElseThrow().body());
            String members = fresh.get("node1", "/v1/members").orElseThrow().body();
            assertFalse(members.contains("\"id\":\"node2\""), "the old cluster's members are not carried over: " + members);

            for (String id : List.of("node2", "node3")) {
                fresh.env(id, "RAFTKV_INITIAL_CLUSTER_STATE", "existing");
                fresh.env(id, "RAFTKV_JOIN", "true");
                fresh.env(id, "RAFTKV_JOIN_INTERVAL", "500ms");
                fresh.start(id);
                await(id + " a voter", WAIT, () -> fresh.get("node1", "/v1/members").map(HttpResponse::body)
                        .filter(s -> s.matches("(?s).*\"id\":\"" + id + "\",[^}]*\"role\":\"voter\".*")));
            }
            assertEquals(200, fresh.putAtLeader("node1", "r/new-cluster", "ok", WAIT).statusCode());
            fresh.kill("node1");
            String next = await("a leader among node2, node3", WAIT, () -> fresh.leaderAmong(List.of("node2", "node3")));
            for (int i = 0; i < keys; i++) {
                assertEquals("v" + i + "-2", fresh.get(next, "/v1/kv/r/k" + i).orElseThrow().body(), "r/k" + i + " on " + next);
            }
            assertEquals("ok", fresh.get(next, "/v1/kv/r/new-cluster").orElseThrow().body());
        }
    }

    private static List<Path> backupFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("raftkv-\\d{8}T\\d{6}Z-\\d+\\.snap")).sorted().toList();
        }
    }

    private static final Map<String, String> SESSION = Map.of("Raftkv-Client-Id", "restore-it", "Raftkv-Request-Seq", "1");

    /** A request to whichever node leads, retried through elections (307, 503, no answer) for {@link #WAIT}. */
    private static HttpResponse<String> atLeader(ProcessCluster cluster, String method, String path, String body,
                                                 Map<String, String> headers) throws Exception {
        return await(method + " " + path + " at the leader", WAIT, () -> {
            for (String id : cluster.running()) {
                try {
                    HttpResponse<String> r = send(cluster.url(id), method, path, body, headers);
                    if (r.statusCode() != 307 && r.statusCode() != 503) {
                        return Optional.of(r);
                    }
                } catch (Exception e) {
                    // the next node
                }
            }
            return Optional.empty();
        });
    }

    private static HttpResponse<String> send(String base, String method, String path, String body, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        headers.forEach(b::header);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private record Result(int status, String out) {
    }

    /** {@code raftkv restore ...}, the packaged artifact's own entry point. */
    private static Result restore(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString(), "restore"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), out);
    }
}
