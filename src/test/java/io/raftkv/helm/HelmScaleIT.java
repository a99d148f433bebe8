package io.raftkv.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.lifecycle.Startables;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * `helm upgrade --set replicaCount=5` and back to 3, with the chart's own wiring: the pods of the rendered
 * StatefulSet run as containers (see {@link StatefulSetPods}); the two new ordinals, rendered as an upgrade renders
 * them, join by themselves and are promoted; then the rendered pre-upgrade hook Job of the scale-down removes them
 * from the configuration before their pods go. Every acknowledged write stays readable throughout.
 * <p>
 * Not emulated: the rolling restart of the old members an upgrade also does (tmpfs volumes do not survive a
 * container restart here); the members that bootstrapped ignore the changed peer list and cluster state anyway (see
 * IdentityTest). {@code it.image} as for {@link HelmChartWiringIT}.
 */
class HelmScaleIT {

    private static final String RELEASE = "rk";
    private static final String NAMESPACE = "raftkv-scale";

    private final String image = System.getProperty("it.image", "raftkv:jvm");
    private final ReleasePods pods = new ReleasePods(NAMESPACE);
    private final List<String> written = new ArrayList<>();

    @Test
    void theChartGrowsFromThreeToFiveMembersAndShrinksBackWithoutLosingAWrite() throws Exception {
        HelmChartWiringIT.requireLocalImage(image);
        // The peer certificates' Secret (RenderedChart names raftkv-peer-tls), for every ordinal the test will run.
        java.nio.file.Path tls = java.nio.file.Path.of("target/helm-scale-tls").toAbsolutePath();
        Process certs = new ProcessBuilder("bash", "scripts/peer-certs.sh", tls.toString(), "rk-raftkv-0", "rk-raftkv-1",
                "rk-raftkv-2", "rk-raftkv-3", "rk-raftkv-4").redirectErrorStream(true).start();
        String certsOut = new String(certs.getInputStream().readAllBytes());
        assertEquals(0, certs.waitFor(), "scripts/peer-certs.sh: " + certsOut);
        StatefulSetPods.SECRETS.put("raftkv-peer-tls", tls);
        try (Network network = Network.newNetwork()) {
            RenderedChart install = render(3).template();
            JsonNode sts3 = install.one("StatefulSet");
            List<GenericContainer<?>> first = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                first.add(pod(sts3, i, network));
            }
            Startables.deepStart(first).get(180, TimeUnit.SECONDS);
            writeSome(10);

            // The upgrade to 5: the new pods start with what an upgrade renders (existing cluster, join).
            JsonNode sts5 = render(5).set("membership.initialClusterState", "existing").template().one("StatefulSet");
            Startables.deepStart(List.of(pod(sts5, 3, network), pod(sts5, 4, network)))
                    .get(180, TimeUnit.SECONDS);
            for (String id : List.of("rk-raftkv-3", "rk-raftkv-4")) {
                ReleasePods.await(id + " a voter", () -> pods.members().filter(m -> ReleasePods.role(m, id).equals("voter")));
                String last = written.get(written.size() - 1);
                ReleasePods.await(last + " on " + id, () -> pods.get(id, "/v1/kv/" + last + "?consistency=stale")
                        .filter(r -> r.statusCode() == 200));
            }
            writeSome(10);
            assertEquals(5, ReleasePods.voters(pods.members().orElseThrow()).size());

            // The downgrade to 3: the hook runs first (as helm runs it, before the StatefulSet changes).
            JsonNode job = render(3).templateWithHooks().one("Job");
            String logs = runHook(job, network);
            assertTrue(logs.contains("removed rk-raftkv-4") && logs.contains("removed rk-raftkv-3"), logs);
            JsonNode after = ReleasePods.await("three voters", () -> pods.members().filter(m -> ReleasePods.voters(m).size() == 3));
            assertEquals(List.of("rk-raftkv-0", "rk-raftkv-1", "rk-raftkv-2"), ReleasePods.voters(after));
            for (String id : List.of("rk-raftkv-3", "rk-raftkv-4")) {
                pods.stop(id); // the StatefulSet shrinks
            }
            writeSome(5);
            for (String key : written) {
                HttpResponse<String> r = pods.atLeader("GET", "/v1/kv/" + key, null);
                assertEquals(200, r.statusCode(), key + ": " + r.body());
                assertEquals("v-" + key, r.body());
            }
            // An ordinary upgrade (same replicaCount): the hook finds nothing to remove.
            assertTrue(runHook(job, network).contains("no member with an ordinal of 3 or more"));
        } finally {
            pods.close();
        }
    }

    private RenderedChart.Render render(int replicas) {
        int colon = image.lastIndexOf(':');
        return RenderedChart.render(RELEASE, NAMESPACE).set("replicaCount", replicas)
                .set("image.repository", image.substring(0, colon)).set("image.tag", image.substring(colon + 1))
                .set("image.pullPolicy", "Never")
                // As HelmChartWiringIT: the emulated pods get no client TLS or token Secrets (HelmChartTest renders
                // the hook's and the joiners' HTTPS and token wiring).
                .set("clientTls.enabled", false).set("auth.enabled", false);
    }

    private GenericContainer<?> pod(JsonNode sts, int ordinal, Network network) {
        return pods.pod(sts, RELEASE, ordinal, network, Map.of());
    }

    /** The rendered hook Job's container, run to completion on the pods' network; its output. */
    private String runHook(JsonNode job, Network network) {
        String logs = pods.runJob(job.path("spec").path("template").path("spec"), network, List.of());
        System.out.println("[helm-scale-it] hook:\n" + logs);
        return logs;
    }

    private void writeSome(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            String key = "scale/k" + written.size();
            HttpResponse<String> r = pods.atLeader("PUT", "/v1/kv/" + key, "v-" + key);
            assertEquals(200, r.statusCode(), key + ": " + r.body());
            written.add(key);
        }
    }
}
