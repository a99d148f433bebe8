package io.raftkv.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Capability;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

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
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String image = System.getProperty("it.image", "raftkv:jvm");
    private final Map<String, GenericContainer<?>> pods = new LinkedHashMap<>();
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
            String serviceName = RELEASE + "-raftkv." + NAMESPACE + ".svc." + StatefulSetPods.CLUSTER_DOMAIN;
            List<GenericContainer<?>> first = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                first.add(pod(sts3, i, network, serviceName));
            }
            Startables.deepStart(first).get(180, TimeUnit.SECONDS);
            writeSome(10);

            // The upgrade to 5: the new pods start with what an upgrade renders (existing cluster, join).
            JsonNode sts5 = render(5).set("membership.initialClusterState", "existing").template().one("StatefulSet");
            Startables.deepStart(List.of(pod(sts5, 3, network, serviceName), pod(sts5, 4, network, serviceName)))
                    .get(180, TimeUnit.SECONDS);
            for (String id : List.of("rk-raftkv-3", "rk-raftkv-4")) {
                await(id + " a voter", () -> members().filter(m -> role(m, id).equals("voter")));
                String last = written.get(written.size() - 1);
                await(last + " on " + id, () -> get(id, "/v1/kv/" + last + "?consistency=stale")
                        .filter(r -> r.statusCode() == 200));
            }
            writeSome(10);
            assertEquals(5, voters(members().orElseThrow()).size());

            // The downgrade to 3: the hook runs first (as helm runs it, before the StatefulSet changes).
            JsonNode job = render(3).templateWithHooks().one("Job");
            String logs = runHook(job, network);
            assertTrue(logs.contains("removed rk-raftkv-4") && logs.contains("removed rk-raftkv-3"), logs);
            JsonNode after = await("three voters", () -> members().filter(m -> voters(m).size() == 3));
            assertEquals(List.of("rk-raftkv-0", "rk-raftkv-1", "rk-raftkv-2"), voters(after));
            for (String id : List.of("rk-raftkv-3", "rk-raftkv-4")) {
                pods.remove(id).stop(); // the StatefulSet shrinks
            }
            writeSome(5);
            for (String key : written) {
                HttpResponse<String> r = atLeader("GET", "/v1/kv/" + key, null);
                assertEquals(200, r.statusCode(), key + ": " + r.body());
                assertEquals("v-" + key, r.body());
            }
            // An ordinary upgrade (same replicaCount): the hook finds nothing to remove.
            assertTrue(runHook(job, network).contains("no member with an ordinal of 3 or more"));
        } finally {
            pods.values().forEach(GenericContainer::stop);
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

    private GenericContainer<?> pod(JsonNode sts, int ordinal, Network network, String serviceName) {
        StatefulSetPods.Pod pod = StatefulSetPods.pod(sts, NAMESPACE, ordinal);
        GenericContainer<?> c = StatefulSetPods.container(sts, pod, network).withNetworkAliases(serviceName);
        pods.put(pod.name(), c);
        return c;
    }

    /** The rendered Job's container, run to completion on the pods' network; its output. */
    private String runHook(JsonNode job, Network network) {
        JsonNode spec = job.path("spec").path("template").path("spec");
        JsonNode c = spec.path("containers").get(0);
        List<String> args = new ArrayList<>();
        c.path("args").forEach(a -> args.add(a.asText()));
        try (GenericContainer<?> hook = new GenericContainer<>(DockerImageName.parse(c.path("image").asText()))
                .withImagePullPolicy(i -> false)
                .withNetwork(network)
                .withTmpFs(Map.of("/tmp", "rw,uid=1001"))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withCmd(args).withUser(c.path("securityContext").path("runAsUser").asText("1001"));
                    cmd.getHostConfig().withReadonlyRootfs(true).withCapDrop(Capability.ALL)
                            .withSecurityOpts(List.of("no-new-privileges"))
                            .withDnsSearch(List.of(NAMESPACE + ".svc." + StatefulSetPods.CLUSTER_DOMAIN));
                })
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(180)))) {
            try {
                hook.start();
            } catch (RuntimeException e) {
                throw new AssertionError("the scale-down hook failed:\n" + hook.getLogs(), e);
            }
            String logs = hook.getLogs();
            System.out.println("[helm-scale-it] hook:\n" + logs);
            return logs;
        }
    }

    private void writeSome(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            String key = "scale/k" + written.size();
            HttpResponse<String> r = atLeader("PUT", "/v1/kv/" + key, "v-" + key);
            assertEquals(200, r.statusCode(), key + ": " + r.body());
            written.add(key);
        }
    }

    /** A request to whichever member leads, retried (elections, redirects) until {@link #WAIT}. */
    private HttpResponse<String> atLeader(String method, String path, String body) throws Exception {
        return await(method + " " + path + " at the leader", () -> {
            for (String id : pods.keySet()) {
                Optional<HttpResponse<String>> r = send(id, method, path, body);
                if (r.isPresent() && r.get().statusCode() != 307 && r.get().statusCode() != 503) {
                    return r;
                }
            }
            return Optional.empty();
        });
    }

    private Optional<JsonNode> members() {
        for (String id : pods.keySet()) {
            Optional<JsonNode> m = get(id, "/v1/members").filter(r -> r.statusCode() == 200).map(r -> {
                try {
                    return JSON.readTree(r.body());
                } catch (Exception e) {
                    return null;
                }
            }).filter(j -> j.hasNonNull("leader") && j.path("leader").asText().equals(id));
            if (m.isPresent()) {
                return m; // the leader's own view
            }
        }
        return Optional.empty();
    }

    private static String role(JsonNode members, String id) {
        for (JsonNode m : members.path("members")) {
            if (id.equals(m.path("id").asText())) {
                return m.path("role").asText();
            }
        }
        return "absent";
    }

    private static List<String> voters(JsonNode members) {
        List<String> out = new ArrayList<>();
        members.path("members").forEach(m -> {
            if ("voter".equals(m.path("role").asText())) {
                out.add(m.path("id").asText());
            }
        });
        return out;
    }

    private Optional<HttpResponse<String>> get(String id, String path) {
        return send(id, "GET", path, null);
    }

    private Optional<HttpResponse<String>> send(String id, String method, String path, String body) {
        GenericContainer<?> c = pods.get(id);
        if (c == null || !c.isRunning()) {
            return Optional.empty();
        }
        try {
            URI uri = URI.create("http://" + c.getHost() + ":" + c.getMappedPort(8080) + path);
            HttpRequest.BodyPublisher p = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
            return Optional.of(HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).method(method, p).build(),
                    HttpResponse.BodyHandlers.ofString()));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static <T> T await(String what, Supplier<Optional<T>> probe) throws InterruptedException {
        return io.raftkv.it.Waits.await(what, WAIT, probe);
    }
}
