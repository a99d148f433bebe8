package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static io.raftkv.it.containers.ContainerCluster.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A node whose disk fills up, on a real file system: its data directory is a 64 MiB tmpfs mounted by the test (as
 * root) and bound into the container, with 40 MiB taken by a filler file. Writes fill the rest until fewer than
 * {@code raftkv.min-free-disk-bytes} (8 MiB) would be left: the node then stops acknowledging (507 with a problem
 * body) before any write of its own fails, says so in its status, readiness, metrics and event log, and keeps serving
 * stale reads; once the filler is deleted it restarts from its files by itself, every acknowledged write is there,
 * and it takes writes again.
 */
class DiskFullContainerIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void aFullDiskStopsAcknowledgingAndTheNodeRecoversWhenSpaceIsFreed() throws Exception {
        fillAndRecover(8 << 20, false);
    }

    /**
     * With no free-space minimum, the disk really fills: some write of the log or of kv.db fails with "no space left
     * on device" half way. The node stops in the same way and, once space is freed, recovers from its files (a kv.db
     * left unreadable is rebuilt from the snapshot and the log) with every acknowledged write.
     */
    @Test
    void aWriteThatFailsForLackOfSpaceIsRecoveredFromToo() throws Exception {
        fillAndRecover(0, true);
    }

    private void fillAndRecover(long minFreeBytes, boolean writesFail) throws Exception {
        Path mnt = Files.createTempDirectory("raftkv-full-disk");
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=64m,mode=0777", "tmpfs", mnt.toString()) == 0,
                "needs root to mount a small tmpfs");
        GenericContainer<?> node = null;
        try {
            Path filler = mnt.resolve("filler");
            Files.write(filler, new byte[40 << 20]);
            node = new GenericContainer<>(DockerImageName.parse(ContainerCluster.IMAGE))
                    .withImagePullPolicy(image -> false)
                    .withExposedPorts(8080)
                    .withEnv("RAFTKV_NODE_ID", "node1")
                    .withEnv("RAFTKV_PEERS", "node1=http://localhost:8080")
                    .withEnv("RAFTKV_WAL_SEGMENT_BYTES", "1048576")
                    .withEnv("RAFTKV_MIN_FREE_DISK_BYTES", Long.toString(minFreeBytes))
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                            .withBinds(ContainerCluster.withPeerTls("node1", new Bind(mnt.toString(), new Volume("/data"))))
                            .withReadonlyRootfs(true)
                            .withTmpFs(Map.of("/tmp", "rw,size=64m")))
                    .waitingFor(Wait.forHttp("/q/health/ready").forPort(8080).withStartupTimeout(Duration.ofSeconds(90)));
            node.start();
            String base = "http://" + node.getHost() + ":" + node.getMappedPort(8080);

            // A first value, flushed to kv.db (status kvFlushedIndex), then fill the disk.
            Map<String, String> acknowledged = new LinkedHashMap<>();
            HttpResponse<String> first = send(base, "PUT", "/v1/kv/full/first", "flushed");
            assertEquals(200, first.statusCode(), first.body());
            long firstIndex = Long.parseLong(field(first.body(), "index"));
            await("full/first flushed to kv.db", WAIT, () -> get(base, "/v1/status")
                    .filter(s -> Long.parseLong(field(s, "kvFlushedIndex")) >= firstIndex));
            acknowledged.put("full/first", "flushed");
            HttpResponse<String> refused = null;
            long deadline = System.nanoTime() + WAIT.toNanos();
            for (int i = 0; refused == null; i++) {
                assertTrue(System.nanoTime() < deadline, "the disk never filled up; acknowledged " + acknowledged.size());
                String value = ("value-" + i + "-").repeat(40_000); // ~360 KB
                HttpResponse<String> r = send(base, "PUT", "/v1/kv/full/k" + i, value);
                if (r.statusCode() == 200) {
                    acknowledged.put("full/k" + i, value);
                } else {
                    refused = r;
                }
            }
            assertTrue(acknowledged.size() > 5, "some writes were acknowledged before the disk filled: " + acknowledged.size());
            // Refused with 507 when the node stopped first; a write caught in a failing disk write may answer 504
            // (outcome unknown), or 503 (not proposed) if it reached the node as it stopped for the failed write:
            // it is not counted as acknowledged either way.
            assertTrue(refused.statusCode() == 507 || (writesFail && refused.statusCode() == 504)
                    || (writesFail && refused.statusCode() == 503 && refused.body().contains("not proposed")), refused.body());
            String stopped = await("the node reporting a full disk", WAIT, () -> get(base, "/v1/status")
                    .filter(s -> "stopped".equals(field(s, "role"))));
            assertTrue(field(stopped, "storage").startsWith("disk full"), stopped);
            HttpResponse<String> put = send(base, "PUT", "/v1/kv/full/more", "x");
            assertEquals(507, put.statusCode(), put.body());
            assertEquals("507", field(put.body(), "status"), put.body());
            assertEquals(503, send(base, "GET", "/q/health/ready", null).statusCode());
            assertEquals(200, send(base, "GET", "/q/health/live", null).statusCode());
            assertTrue(send(base, "GET", "/q/metrics", null).body().contains("raftkv_disk_full 1.0"));
            String firstKey = acknowledged.keySet().iterator().next();
            HttpResponse<String> stale = send(base, "GET", "/v1/kv/" + firstKey + "?consistency=stale", null);
            if (writesFail && stale.statusCode() == 503) {
                Figures.record("disk full", "kv.db could not be read after the failed write: no stale reads until space was freed");
            } else {
                assertEquals(200, stale.statusCode(), "stale reads are still served: " + stale.body());
                assertEquals(acknowledged.get(firstKey), stale.body());
            }

            // Free space: the node restarts from its files by itself.
            Files.delete(filler);
            await("the node leading again", WAIT, () -> get(base, "/v1/status").filter(s -> "leader".equals(field(s, "role"))));
            await("a write acknowledged again", WAIT, () -> {
                try {
                    return Optional.of(send(base, "PUT", "/v1/kv/full/after", "ok")).filter(r -> r.statusCode() == 200);
                } catch (Exception e) {
                    return Optional.empty();
                }
            });
            for (Map.Entry<String, String> e : acknowledged.entrySet()) {
                HttpResponse<String> r = send(base, "GET", "/v1/kv/" + e.getKey(), null);
                assertEquals(200, r.statusCode(), e.getKey() + ": " + r.body());
                assertEquals(e.getValue(), r.body(), e.getKey());
            }
            assertTrue(send(base, "GET", "/q/metrics", null).body().contains("raftkv_disk_full 0.0"));
            String events = Files.readString(mnt.resolve("events.log"), StandardCharsets.UTF_8);
            assertTrue(events.contains("DISK FULL"), events);
            assertTrue(events.contains("disk space available again"), events);
            assertEquals(writesFail, events.contains("No space left on device"),
                    (writesFail ? "a write failed for lack of space: " : "it stopped before any write failed: ") + events);
            HttpResponse<String> status = send(base, "GET", "/v1/status", null);
            if (!writesFail) {
                assertEquals("1", field(status.body(), "diskFullEpisodes"), status.body());
            }
            Figures.record("disk full", acknowledged.size() + " writes of ~360 KB acknowledged before the node stopped with "
                    + field(stopped, "diskFreeBytes") + " bytes free (minimum " + minFreeBytes + "); resumed after the filler"
                    + " was deleted, episodes " + field(status.body(), "diskFullEpisodes"));
        } finally {
            if (node != null) {
                node.stop();
            }
            run("umount", "-l", mnt.toString());
        }
    }

    private static HttpResponse<String> send(String base, String method, String path, String body)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Optional<String> get(String base, String path) {
        try {
            HttpResponse<String> r = send(base, "GET", path, null);
            return r.statusCode() == 200 ? Optional.of(r.body()) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor();
    }
}
