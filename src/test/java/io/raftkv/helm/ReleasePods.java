package io.raftkv.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
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
import java.util.function.Supplier;

/**
 * The running pods of one emulated release (see {@link StatefulSetPods}), by pod name, and what the Helm ITs ask of
 * them: requests to a pod or to whichever leads, the leader's member list, and the chart's Jobs (hooks, backups) run
 * to completion on the pods' network as the Job's pod would run.
 */
final class ReleasePods implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(90);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    final String namespace;
    private final Map<String, GenericContainer<?>> pods = new LinkedHashMap<>();

    ReleasePods(String namespace) {
        this.namespace = namespace;
    }

    /** Pod {@code ordinal} of {@code sts} (not started), also answering to the client Service's name. */
    GenericContainer<?> pod(JsonNode sts, String release, int ordinal, Network network, Map<String, String> claimVolumes) {
        StatefulSetPods.Pod pod = StatefulSetPods.pod(sts, namespace, ordinal);
        String service = release + "-raftkv." + namespace + ".svc." + StatefulSetPods.CLUSTER_DOMAIN;
        GenericContainer<?> c = (claimVolumes.isEmpty() ? StatefulSetPods.container(sts, pod, network)
                : StatefulSetPods.container(sts, pod, network, claimVolumes)).withNetworkAliases(service);
        pods.put(pod.name(), c);
        return c;
    }

    /** Stops and forgets one pod (a scale-down, a restart). */
    void stop(String name) {
        GenericContainer<?> c = pods.remove(name);
        if (c != null) {
            c.stop();
        }
    }

    @Override
    public void close() {
        pods.values().forEach(GenericContainer::stop);
        pods.clear();
    }

    /**
     * The container of a rendered Job pod spec (a hook's, a CronJob's job template's), run to completion on
     * {@code network}, read-only root and no capabilities as the chart asks; {@code binds} provide its volumes beyond
     * /tmp. Its output; an AssertionError with the output if it fails.
     */
    String runJob(JsonNode podSpec, Network network, List<Bind> binds) {
        JsonNode c = podSpec.path("containers").get(0);
        List<String> args = new ArrayList<>();
        c.path("args").forEach(a -> args.add(a.asText()));
        StringBuffer output = new StringBuffer(); // kept even when a failed container is removed before its logs are read
        try (GenericContainer<?> job = new GenericContainer<>(DockerImageName.parse(c.path("image").asText()))
                .withImagePullPolicy(i -> false)
                .withNetwork(network)
                .withTmpFs(Map.of("/tmp", "rw,uid=1001"))
                .withCreateContainerCmdModifier(cmd -> {
                    cmd.withCmd(args).withUser(c.path("securityContext").path("runAsUser").asText("1001"));
                    cmd.getHostConfig().withReadonlyRootfs(true).withCapDrop(Capability.ALL)
                            .withSecurityOpts(List.of("no-new-privileges"))
                            .withDnsSearch(List.of(namespace + ".svc." + StatefulSetPods.CLUSTER_DOMAIN));
                    if (!binds.isEmpty()) {
                        cmd.getHostConfig().withBinds(binds);
                    }
                })
                .withLogConsumer(frame -> output.append(frame.getUtf8String()))
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(180)))) {
            try {
                job.start();
            } catch (RuntimeException e) {
                throw new AssertionError("the job's container failed:\n" + output, e);
            }
            return job.getLogs();
        }
    }

    /** A request to whichever member leads, retried (elections, redirects) until {@link #WAIT}. */
    HttpResponse<String> atLeader(String method, String path, String body) throws Exception {
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

    /** The member list as the leader sees it; empty while no pod leads. */
    Optional<JsonNode> members() {
        for (String id : pods.keySet()) {
            Optional<JsonNode> m = send(id, "GET", "/v1/members", null).filter(r -> r.statusCode() == 200).map(r -> {
                try {
                    return JSON.readTree(r.body());
                } catch (Exception e) {
                    return null;
                }
            }).filter(j -> j.hasNonNull("leader") && j.path("leader").asText().equals(id));
            if (m.isPresent()) {
                return m;
            }
        }
        return Optional.empty();
    }

    static String role(JsonNode members, String id) {
        for (JsonNode m : members.path("members")) {
            if (id.equals(m.path("id").asText())) {
                return m.path("role").asText();
            }
        }
        return "absent";
    }

    static List<String> voters(JsonNode members) {
        List<String> out = new ArrayList<>();
        members.path("members").forEach(m -> {
            if ("voter".equals(m.path("role").asText())) {
                out.add(m.path("id").asText());
            }
        });
        return out;
    }

    Optional<HttpResponse<String>> get(String id, String path) {
        return send(id, "GET", path, null);
    }

    Optional<HttpResponse<String>> send(String id, String method, String path, String body) {
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

    static <T> T await(String what, Supplier<Optional<T>> probe) throws InterruptedException {
        return io.raftkv.it.Waits.await(what, WAIT, probe);
    }
}
