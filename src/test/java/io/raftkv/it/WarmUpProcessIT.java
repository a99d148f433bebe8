package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code raftkv warm-up}, the training run of the JVM image's class-data archive, on the packaged jar: it ignores a
 * node's configuration in the environment (peer TLS without certificates, authentication without a tokens file, a
 * data directory that cannot be made would each stop a node), serves its requests and exits 0; and the archive it
 * leaves is one a JVM maps: nodes started with {@code -Xshare:on} (which refuses to start on an unusable archive)
 * elect a leader and replicate a write.
 */
class WarmUpProcessIT {

    @Test
    void warmUpMakesAnArchiveNodesStartWith() throws Exception {
        Path root = Path.of("target/it-warm-up/" + System.currentTimeMillis()).toAbsolutePath();
        Files.createDirectories(root);
        Path archive = root.resolve("app-cds.jsa");
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-XX:ArchiveClassesAtExit=" + archive, "-Xlog:cds=off",
                "-Xlog:cds+dynamic=off", "-jar", jar.toString(), "warm-up", root.resolve("warm-up-data").toString());
        pb.environment().put("RAFTKV_PEER_TLS", "true");
        pb.environment().put("RAFTKV_PEER_TLS_DIR", root.resolve("no-such-tls").toString());
        pb.environment().put("RAFTKV_AUTH_ENABLED", "true");
        pb.environment().put("RAFTKV_DATA_DIR", "/proc/no-such-dir");
        pb.environment().put("RAFTKV_NODE_ID", "node7");
        pb.environment().put("QUARKUS_HTTP_PORT", "1");
        pb.redirectErrorStream(true).redirectOutput(root.resolve("warm-up.log").toFile());
        Process warmUp = pb.start();
        assertTrue(warmUp.waitFor(180, TimeUnit.SECONDS), "warm-up still running after 180 s");
        String log = Files.readString(root.resolve("warm-up.log"));
        assertEquals(0, warmUp.exitValue(), "warm-up failed:\n" + log);
        assertTrue(log.contains("requests served"), log);
        assertTrue(Files.size(archive) > 1_000_000, "archive of " + Files.size(archive) + " bytes");

        try (ProcessCluster cluster = new ProcessCluster(root.resolve("cluster"), 3)) {
            cluster.env("RAFTKV_PEER_TLS", "false")
                    .env("JDK_JAVA_OPTIONS", "-Xshare:on -XX:SharedArchiveFile=" + archive);
            cluster.startAll();
            String leader = await("a leader", Duration.ofSeconds(90), () -> cluster.leaderAmong(cluster.ids()));
            assertEquals(200, cluster.put(leader, "after-warm-up", "1").statusCode());
            for (String id : List.of("node1", "node2", "node3")) {
                await(id + " to apply the write", Duration.ofSeconds(30),
                        () -> cluster.staleGet(id, "after-warm-up").filter("1"::equals));
                String nodeLog = cluster.log(id);
                assertTrue(nodeLog.contains("Picked up JDK_JAVA_OPTIONS: -Xshare:on"), nodeLog);
            }
        }
    }
}
