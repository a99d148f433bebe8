package io.raftkv.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Capability;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The chart's wiring, run for real: renders helm/raftkv (3 members, the local raftkv image), starts each pod of the
 * StatefulSet as a container with exactly the rendered container spec (see {@link StatefulSetPods}) on a Docker
 * network whose aliases are the pods' Kubernetes DNS names, and checks that the members find each other through the
 * peer list the chart derived: a leader is elected, every pod's probes answer, each member knows the others at their
 * pod DNS names, and a write through a follower (redirected to the leader) is readable on every member.
 *
 * <p>System properties: {@code it.image} (default raftkv:jvm), {@code it.helm.set} (extra {@code key=value} values,
 * separated by ';', e.g. to check that a broken value fails this test), {@code it.helm.testImage} (an image with sh
 * and curl, local, to also run the chart's `helm test` pod; skipped when it is not present).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HelmChartWiringIT {

    private static final String RELEASE = "rk";
    private static final String NAMESPACE = "raftkv-it";
    private static final int REPLICAS = 3;
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String image = System.getProperty("it.image", "raftkv:jvm");
    private final Map<String, Member> members = new LinkedHashMap<>();
    private RenderedChart chart;
    private JsonNode statefulSet;
    private JsonNode container;
    private Network network;
    private AssertionError noLeader;

    /** A started pod: its Kubernetes identity and its container. */
    record Member(StatefulSetPods.Pod pod, GenericContainer<?> container) {
        String name() {
            return pod.name();
        }
    }

    @RegisterExtension
    final TestWatcher logsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            dumpLogs();
        }
    };

    @BeforeAll
    void startTheStatefulSet() throws Exception {
        requireLocalImage(image);
        int colon = image.lastIndexOf(':');
        boolean hasTag = colon > image.lastIndexOf('/');
        // The peer certificates' Secret (RenderedChart names raftkv-peer-tls), as scripts/peer-certs.sh makes them.
        java.nio.file.Path tls = java.nio.file.Path.of("target/helm-wiring-tls").toAbsolutePath();
        Process certs = new ProcessBuilder("bash", "scripts/peer-certs.sh", tls.toString(), "rk-raftkv-0", "rk-raftkv-1",
                "rk-raftkv-2").redirectErrorStream(true).start();
        String certsOut = new String(certs.getInputStream().readAllBytes());
        if (certs.waitFor() != 0) {
            throw new IllegalStateException("scripts/peer-certs.sh: " + certsOut);
        }
        StatefulSetPods.SECRETS.put("raftkv-peer-tls", tls);
        RenderedChart.Render render = RenderedChart.render(RELEASE, NAMESPACE)
                .set("replicaCount", REPLICAS)
                .set("image.repository", hasTag ? image.substring(0, colon) : image)
                .set("image.tag", hasTag ? image.substring(colon + 1) : "latest")
                .set("image.pullPolicy", "Never")
                // The peer wiring over plain HTTP: Secret volumes (client TLS, tokens) are not emulated here yet, and
                // this test's requests carry no token. Client TLS and auth are covered by HelmChartTest (rendering)
                // and ClientTlsProcessIT / AuthApiTest / ClientTlsApiTest (behaviour).
                .set("clientTls.enabled", false)
                .set("auth.enabled", false);
        for (String kv : System.getProperty("it.helm.set", "").split(";")) {
            if (!kv.isBlank()) {
                render.set(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
            }
        }
        chart = render.template();
        statefulSet = chart.one("StatefulSet");
        container = chart.container();
        assertEquals(image, container.path("image").asText());
        int replicas = statefulSet.path("spec").path("replicas").asInt();
        assertEquals(REPLICAS, replicas);

        // The client Services' DNS names resolve to the members too (Docker's round-robin over a shared alias);
        // only the `helm test` pod uses them.
        List<String> serviceNames = new ArrayList<>();
        for (JsonNode service : chart.ofKind("Service")) {
            if (!"None".equals(service.path("spec").path("clusterIP").asText())) {
                serviceNames.add(service.path("metadata").path("name").asText() + "." + NAMESPACE + ".svc."
                        + StatefulSetPods.CLUSTER_DOMAIN);
            }
        }
        network = Network.newNetwork();
        List<GenericContainer<?>> containers = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            StatefulSetPods.Pod pod = StatefulSetPods.pod(statefulSet, NAMESPACE, i);
            GenericContainer<?> c = StatefulSetPods.container(statefulSet, pod, network);
            serviceNames.forEach(c::withNetworkAliases);
            members.put(pod.name(), new Member(pod, c));
            containers.add(c);
        }
        long start = System.nanoTime();
        try {
            // podManagementPolicy: Parallel, as the chart asks: all pods at once.
            Startables.deepStart(containers).get(180, TimeUnit.SECONDS);
        } catch (Exception e) {
            dumpLogs();
            throw new AssertionError("the pods did not start (their startup probe never answered 200)", e);
        }
        System.out.printf("[helm-it] %d pods of %s started in %d ms%n", replicas, image,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    @AfterAll
    void stop() {
        members.values().forEach(m -> m.container().stop());
        if (network != null) {
            network.close();
        }
    }

    @Test
    @Order(1)
    void servicesSelectThePodsTheDnsNamesComeFrom() {
        // The DNS names this test gives the containers exist in Kubernetes only through these objects.
        JsonNode podLabels = statefulSet.path("spec").path("template").path("metadata").path("labels");
        JsonNode headless = chart.named("Service", statefulSet.path("spec").path("serviceName").asText());
        assertEquals("None", headless.path("spec").path("clusterIP").asText());
        assertTrue(headless.path("spec").path("publishNotReadyAddresses").asBoolean(), "unready peers must resolve");
        assertEquals("Parallel", statefulSet.path("spec").path("podManagementPolicy").asText());
        for (JsonNode service : chart.ofKind("Service")) {
            service.path("spec").path("selector").fields().forEachRemaining(e -> assertEquals(e.getValue().asText(),
                    podLabels.path(e.getKey()).asText(), service.path("metadata").path("name") + " selector " + e.getKey()));
            for (JsonNode p : service.path("spec").path("ports")) {
                StatefulSetPods.port(container, p.path("targetPort")); // resolves to a container port, or fails
            }
        }
    }

    @Test
    @Order(2)
    void theContainersRunWithThePodsSecurityContext() {
        JsonNode sc = container.path("securityContext");
        for (Member m : members.values()) {
            var info = DockerClientFactory.instance().client().inspectContainerCmd(m.container().getContainerId()).exec();
            assertEquals(sc.path("runAsUser").asText() + ":" + sc.path("runAsGroup").asText(), info.getConfig().getUser(), m.name());
            assertEquals(sc.path("readOnlyRootFilesystem").asBoolean(), info.getHostConfig().getReadonlyRootfs(), m.name());
            assertTrue(info.getHostConfig().getSecurityOpts().contains("no-new-privileges"), m.name());
            assertEquals(m.name(), info.getConfig().getHostName());
        }
    }

    @Test
    @Order(3)
    void theMembersFormAClusterAndElectALeader() {
        String leader = awaitLeader();
        int port = StatefulSetPods.port(container, JSON.valueToTree("http"));
        Map<String, String> expectedMembers = new TreeMap<>();
        members.values().forEach(m -> expectedMembers.put(m.name(), "http://" + m.pod().fqdn() + ":" + port));
        for (Member m : members.values()) {
            JsonNode status = await(m.name() + " following " + leader, WAIT,
                    () -> status(m).filter(s -> leader.equals(s.path("leader").asText())));
            // The node id is the pod name, and every member knows every other at its pod's DNS name.
            assertEquals(m.name(), status.path("id").asText());
            assertEquals("http://" + m.pod().fqdn() + ":" + port, status.path("url").asText());
            assertEquals(expectedMembers, JSON.convertValue(status.path("members"), Map.class), m.name() + " members");
            assertEquals(expectedMembers.get(leader), status.path("leaderUrl").asText());
            assertEquals(m.name().equals(leader) ? "leader" : "follower", status.path("role").asText());
        }
    }

    @Test
    @Order(4)
    void everyPodAnswersItsReadinessAndLivenessProbes() {
        awaitLeader();
        for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
            JsonNode get = container.path(probe).path("httpGet");
            assertFalse(get.isMissingNode(), probe + " is an httpGet probe");
            int port = StatefulSetPods.port(container, get.path("port"));
            for (Member m : members.values()) {
                // Readiness needs the member to know the leader and to have caught up: wait for it, as Kubernetes would.
                HttpResponse<String> r = await(m.name() + " " + probe + " " + get.path("path").asText(), WAIT,
                        () -> send(m, port, "GET", get.path("path").asText(), null).filter(x -> x.statusCode() == 200));
                assertEquals(200, r.statusCode(), r.body());
            }
        }
    }

    @Test
    @Order(5)
    void aWriteThroughAFollowerIsReadableOnEveryMember() {
        String leader = awaitLeader();
        Member follower = members.values().stream().filter(m -> !m.name().equals(leader)).findFirst().orElseThrow();
        String key = "helm-it/" + System.nanoTime();
        String value = "written through " + follower.name();

        List<URI> hops = new ArrayList<>();
        HttpResponse<String> put = await("a PUT through " + follower.name(), WAIT,
                () -> followingRedirects(follower, "PUT", "/v1/kv/" + key, value, hops).filter(r -> r.statusCode() == 200));
        assertEquals(200, put.statusCode(), put.body());
        // The follower sent the client to the leader at its pod DNS name (RAFTKV_ADVERTISE_URL / RAFTKV_PEERS).
        assertFalse(hops.isEmpty(), "the follower redirected the write");
        assertEquals(members.get(leader).pod().fqdn(), hops.get(hops.size() - 1).getHost());

        for (Member m : members.values()) {
            HttpResponse<String> get = await("a linearizable GET through " + m.name(), WAIT,
                    () -> followingRedirects(m, "GET", "/v1/kv/" + key, null, new ArrayList<>()).filter(r -> r.statusCode() == 200));
            assertEquals(value, get.body(), m.name());
            // And the value is in every member's own state machine.
            HttpResponse<String> stale = await(m.name() + " applying " + key, WAIT,
                    () -> send(m, httpPort(), "GET", "/v1/kv/" + key + "?consistency=stale", null)
                            .filter(r -> r.statusCode() == 200 && value.equals(r.body())));
            assertEquals(value, stale.body());
        }
    }

    /**
     * The chart's `helm test` pod, run on the same network with the client Service's DNS name pointing at the members.
     * Needs an image with sh and curl present locally (no registry here): {@code -Dit.helm.testImage=...}, by default
     * the chart's own test image; skipped when it is not there.
     */
    @Test
    @Order(6)
    void theHelmTestHookPasses() {
        String testImage = System.getProperty("it.helm.testImage", "");
        RenderedChart.Render render = RenderedChart.render(RELEASE, NAMESPACE).set("clientTls.enabled", false)
                .set("auth.enabled", false);
        if (!testImage.isBlank()) {
            int colon = testImage.lastIndexOf(':');
            render.set("tests.image.repository", testImage.substring(0, colon)).set("tests.image.tag", testImage.substring(colon + 1));
        }
        JsonNode testPod = render.templateWithTestHooks().one("Pod");
        JsonNode c = testPod.path("spec").path("containers").get(0);
        String image = c.path("image").asText();
        assumeTrue(localImageExists(image), "no local image " + image + " for the helm test pod (set -Dit.helm.testImage)");
        awaitLeader();

        // The client Service's DNS name answers with the members (an alias of every member); Docker cannot remap ports,
        // so the Service port must equal the container port, as it does by default.
        JsonNode client = chart.named("Service", statefulSet.path("metadata").path("name").asText());
        JsonNode port = client.path("spec").path("ports").get(0);
        assertEquals(port.path("port").asInt(), StatefulSetPods.port(container, port.path("targetPort")));
        Map<String, String> env = StatefulSetPods.resolveEnv(c.path("env"),
                new StatefulSetPods.Pod(0, testPod.path("metadata").path("name").asText(), NAMESPACE, ""));
        List<String> command = new ArrayList<>();
        c.path("command").forEach(n -> command.add(StatefulSetPods.expand(n.asText(), env)));
        List<String> args = new ArrayList<>();
        c.path("args").forEach(n -> args.add(StatefulSetPods.expand(n.asText(), env)));
        try (GenericContainer<?> hook = new GenericContainer<>(DockerImageName.parse(image))
                .withImagePullPolicy(i -> false)
                .withNetwork(network)
                .withEnv(env)
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withEntrypoint(command).withCmd(args)
                            .withUser(testPod.path("spec").path("securityContext").path("runAsUser").asText());
                    cmd.getHostConfig().withReadonlyRootfs(c.path("securityContext").path("readOnlyRootFilesystem").asBoolean(false))
                            .withCapDrop(Capability.ALL)
                            .withSecurityOpts(List.of("no-new-privileges"));
                })
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(180)))) {
            try {
                hook.start();
            } catch (RuntimeException e) {
                String logs;
                try {
                    logs = hook.getLogs();
                } catch (RuntimeException gone) {
                    logs = "(no logs: " + gone.getMessage() + ")";
                }
                throw new AssertionError("the helm test pod failed:\n" + logs, e);
            }
            String logs = hook.getLogs();
            System.out.println("[helm-it] helm test pod:\n" + logs);
            assertTrue(logs.contains("OK: "), logs);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private int httpPort() {
        return StatefulSetPods.port(container, JSON.valueToTree("http"));
    }

    /** The member every member names as leader, once they all agree and it says it leads. */
    private String awaitLeader() {
        if (noLeader != null) {
            throw noLeader; // waited in full once already: fail the other tests at once
        }
        try {
            return awaitAgreedLeader();
        } catch (AssertionError e) {
            StringBuilder statuses = new StringBuilder();
            members.values().forEach(m -> statuses.append("\n  ").append(m.name()).append(": ")
                    .append(status(m).map(JsonNode::toString).orElse("(no answer)")));
            noLeader = new AssertionError(e.getMessage() + "; the members' /v1/status:" + statuses, e);
            throw noLeader;
        }
    }

    private String awaitAgreedLeader() {
        return await("a leader all " + members.size() + " members agree on", WAIT, () -> {
            String leader = null;
            for (Member m : members.values()) {
                Optional<JsonNode> s = status(m);
                String l = s.map(x -> x.path("leader").asText("")).orElse("");
                if (l.isEmpty() || l.equals("null") || (leader != null && !leader.equals(l))) {
                    return Optional.empty();
                }
                leader = l;
            }
            Member lead = members.get(leader);
            if (lead == null) {
                throw new AssertionError("the members elected " + leader + ", which is not one of the pods " + members.keySet());
            }
            return status(lead).filter(s -> "leader".equals(s.path("role").asText())).map(s -> s.path("id").asText());
        });
    }

    private Optional<JsonNode> status(Member m) {
        return send(m, httpPort(), "GET", "/v1/status", null).filter(r -> r.statusCode() == 200).map(r -> {
            try {
                return JSON.readTree(r.body());
            } catch (IOException e) {
                throw new AssertionError("bad /v1/status from " + m.name() + ": " + r.body(), e);
            }
        });
    }

    /**
     * A request to one member that follows 307/308 redirects the way an in-cluster client would: the Location names a
     * pod DNS name, which only resolves inside the network, so it is mapped to that container's published port.
     */
    private Optional<HttpResponse<String>> followingRedirects(Member first, String method, String path, String body, List<URI> hops) {
        Member target = first;
        int port = httpPort();
        String pathAndQuery = path;
        for (int i = 0; i < 5; i++) {
            Optional<HttpResponse<String>> r = send(target, port, method, pathAndQuery, body);
            if (r.isEmpty() || (r.get().statusCode() != 307 && r.get().statusCode() != 308)) {
                return r;
            }
            URI location = URI.create(r.get().headers().firstValue("Location")
                    .orElseThrow(() -> new AssertionError("a redirect without Location")));
            hops.add(location);
            target = members.values().stream().filter(m -> m.pod().fqdn().equals(location.getHost())).findFirst()
                    .orElseThrow(() -> new AssertionError("redirect to " + location + ": not a pod DNS name of " + members.keySet()));
            port = location.getPort();
            pathAndQuery = location.getRawPath() + (location.getRawQuery() == null ? "" : "?" + location.getRawQuery());
        }
        throw new AssertionError("more than 5 redirects for " + method + " " + path + ": " + hops);
    }

    private static Optional<HttpResponse<String>> send(Member m, int containerPort, String method, String pathAndQuery, String body) {
        URI uri = URI.create("http://" + m.container().getHost() + ":" + m.container().getMappedPort(containerPort) + pathAndQuery);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        if (body != null) {
            b.header("Content-Type", "application/octet-stream");
        }
        try {
            return Optional.of(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8)));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static <T> T await(String what, Duration timeout, Supplier<Optional<T>> probe) {
        try {
            return io.raftkv.it.Waits.await(what, timeout, 200, probe);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static boolean localImageExists(String image) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    static void requireLocalImage(String image) {
        assertTrue(localImageExists(image), "image " + image + " is not in the local Docker engine (no registry to pull from):"
                + " build it with `make image` (raftkv:jvm), or pass -Dit.image=<a local image>");
    }

    private void dumpLogs() {
        for (Member m : members.values()) {
            try {
                String logs = m.container().getLogs();
                System.err.println("===== [helm-it] logs of " + m.name() + " (" + m.pod().fqdn() + ")\n" + logs);
            } catch (RuntimeException e) {
                System.err.println("===== [helm-it] no logs of " + m.name() + ": " + e.getMessage());
            }
        }
    }
}
