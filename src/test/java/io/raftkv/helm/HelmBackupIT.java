package io.raftkv.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import io.raftkv.snapshot.SnapshotFileReader;
import io.raftkv.snapshot.SnapshotHeader;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.lifecycle.Startables;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The chart's backups and restore, with its own wiring: the rendered backup CronJob's container saves a verified
 * snapshot of a running 3-member release onto the backup claim; then a new release is installed with
 * {@code restore.enabled}: its pods run the rendered init container (ordinal 0 restores the file into its empty
 * volume, the others do nothing) and start (ordinals 1 and 2 join ordinal 0), and every write of the backup is there
 * on a cluster of three voters. Restarting ordinal 0 on its volume does not restore again. Pods, DNS and volumes as
 * {@link StatefulSetPods} plays them; {@code it.image} as for {@link HelmChartWiringIT}.
 */
class HelmBackupIT {

    private static final String RELEASE = "rk";
    private static final int KEYS = 25;

    private final String image = System.getProperty("it.image", "raftkv:jvm");
    private final List<String> volumes = new ArrayList<>();

    @Test
    void aScheduledBackupOfOneReleaseIsWhatANewReleaseStartsFrom() throws Exception {
        HelmChartWiringIT.requireLocalImage(image);
        Path root = Path.of("target/helm-backup-it/" + System.currentTimeMillis()).toAbsolutePath();
        Path tls = root.resolve("tls");
        Process certs = new ProcessBuilder("bash", "scripts/peer-certs.sh", tls.toString(), "rk-raftkv-0", "rk-raftkv-1",
                "rk-raftkv-2").redirectErrorStream(true).start();
        String certsOut = new String(certs.getInputStream().readAllBytes());
        assertEquals(0, certs.waitFor(), "scripts/peer-certs.sh: " + certsOut);
        StatefulSetPods.SECRETS.put("raftkv-peer-tls", tls);
        Path backups = Files.createDirectories(root.resolve("backups"));
        Files.setPosixFilePermissions(backups, PosixFilePermissions.fromString("rwxrwxrwx")); // the pods run as 1001
        StatefulSetPods.CLAIMS.put("rk-raftkv-backup", backups);
        try {
            String backupFile;
            try (Network network = Network.newNetwork(); ReleasePods pods = new ReleasePods("raftkv-backup")) {
                String ns = pods.namespace;
                RenderedChart chart = render(ns).set("backup.enabled", true).set("backup.retain", 2).template();
                JsonNode sts = chart.one("StatefulSet");
                List<GenericContainer<?>> first = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    first.add(pods.pod(sts, RELEASE, i, network, Map.of()));
                }
                Startables.deepStart(first).get(180, TimeUnit.SECONDS);
                for (int i = 0; i < KEYS; i++) {
                    HttpResponse<String> r = pods.atLeader("PUT", "/v1/kv/backup/k" + i, "v" + i);
                    assertEquals(200, r.statusCode(), r.body());
                }
                JsonNode job = chart.one("CronJob").path("spec").path("jobTemplate").path("spec").path("template").path("spec");
                for (JsonNode m : job.path("containers").get(0).path("volumeMounts")) {
                    String path = m.path("mountPath").asText();
                    assertTrue(path.equals("/backups") || path.equals("/tmp"), "a mount this test does not provide: " + path);
                }
                String logs = pods.runJob(job, network, List.of(new Bind(backups.toString(), new Volume("/backups"), AccessMode.rw)));
                System.out.println("[helm-backup-it] backup job:\n" + logs);
                assertTrue(logs.contains("saved snapshot at index"), logs);
                List<Path> files = list(backups);
                assertEquals(1, files.size(), files.toString());
                SnapshotHeader h = SnapshotFileReader.verify(files.get(0));
                assertTrue(h.keyCount() >= KEYS, "the backup holds the writes: " + h.keyCount() + " keys");
                backupFile = files.get(0).getFileName().toString();
                assertEquals(200, pods.atLeader("PUT", "/v1/kv/backup/after", "not in the backup").statusCode());
            }

            try (Network network = Network.newNetwork(); ReleasePods pods = new ReleasePods("raftkv-restore")) {
                String ns = pods.namespace;
                JsonNode sts = render(ns).set("restore.enabled", true).set("restore.claimName", "rk-raftkv-backup")
                        .set("restore.file", backupFile).template().one("StatefulSet");
                List<GenericContainer<?>> started = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    String volume = "raftkv-helm-backup-it-" + System.nanoTime() + "-" + i;
                    volumes.add(volume);
                    Map<String, String> data = Map.of("/data", volume);
                    StatefulSetPods.Pod p = StatefulSetPods.pod(sts, ns, i);
                    for (GenericContainer<?> init : StatefulSetPods.initContainers(sts, p, network, data, Duration.ofSeconds(120))) {
                        try (init) {
                            init.start();
                            String out = init.getLogs();
                            System.out.println("[helm-backup-it] init container of " + p.name() + ":\n" + out);
                            assertTrue(i == 0 ? out.contains("restored snapshot") : out.contains("nothing to do"), out);
                        }
                    }
                    started.add(pods.pod(sts, RELEASE, i, network, data));
                }
                Startables.deepStart(started).get(180, TimeUnit.SECONDS);
                JsonNode three = ReleasePods.await("three voters", () -> pods.members().filter(m -> ReleasePods.voters(m).size() == 3));
                assertEquals(List.of("rk-raftkv-0", "rk-raftkv-1", "rk-raftkv-2"), ReleasePods.voters(three));
                for (int i = 0; i < KEYS; i++) {
                    HttpResponse<String> r = pods.atLeader("GET", "/v1/kv/backup/k" + i, null);
                    assertEquals(200, r.statusCode(), "backup/k" + i + ": " + r.body());
                    assertEquals("v" + i, r.body());
                }
                assertEquals(404, pods.atLeader("GET", "/v1/kv/backup/after", null).statusCode(), "written after the backup");
                assertEquals(200, pods.atLeader("PUT", "/v1/kv/backup/restored", "yes").statusCode());

                // Ordinal 0's pod again on its volume (a restart): the init container leaves the data alone.
                pods.stop("rk-raftkv-0");
                StatefulSetPods.Pod p0 = StatefulSetPods.pod(sts, ns, 0);
                Map<String, String> data0 = Map.of("/data", volumes.get(0));
                for (GenericContainer<?> init : StatefulSetPods.initContainers(sts, p0, network, data0, Duration.ofSeconds(120))) {
                    try (init) {
                        init.start();
                        assertTrue(init.getLogs().contains("already holds data"), init.getLogs());
                    }
                }
                pods.pod(sts, RELEASE, 0, network, data0).start();
                ReleasePods.await("backup/restored on the restarted rk-raftkv-0", () -> pods.send("rk-raftkv-0", "GET",
                        "/v1/kv/backup/restored?consistency=stale", null).filter(r -> r.statusCode() == 200));
            }
        } finally {
            StatefulSetPods.CLAIMS.remove("rk-raftkv-backup");
            for (String v : volumes) {
                try {
                    DockerClientFactory.instance().client().removeVolumeCmd(v).exec();
                } catch (RuntimeException e) {
                    System.out.println("[helm-backup-it] could not remove volume " + v + ": " + e);
                }
            }
        }
    }

    private RenderedChart.Render render(String namespace) {
        int colon = image.lastIndexOf(':');
        return RenderedChart.render(RELEASE, namespace).set("replicaCount", 3)
                .set("image.repository", image.substring(0, colon)).set("image.tag", image.substring(colon + 1))
                .set("image.pullPolicy", "Never")
                // As HelmScaleIT: no client TLS or token Secrets in the emulation (HelmChartTest renders that wiring).
                .set("clientTls.enabled", false).set("auth.enabled", false);
    }

    private static List<Path> list(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".snap")).sorted().toList();
        }
    }

}
