package io.raftkv.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.ContainerLaunchException;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.math.BigDecimal;
import java.net.HttpURLConnection;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plays kubelet and cluster DNS for a rendered StatefulSet, in Docker: one container per ordinal with exactly the pod
 * template's image, command, args, ports, env (downward API and $(VAR) references resolved as the kubelet does),
 * volumes, user, read-only root, capabilities and memory limit, on a network where each container answers to the
 * DNS name Kubernetes gives that pod: {@code <statefulset>-<i>.<serviceName>.<namespace>.svc.<clusterDomain>}.
 * Anything in the pod spec it cannot reproduce faithfully fails loudly instead of being skipped.
 */
final class StatefulSetPods {

    /** What the cluster's DNS uses; Kubernetes' default. Independent of the chart's own clusterDomain value. */
    static final String CLUSTER_DOMAIN = "cluster.local";

    private static final Pattern QUANTITY = Pattern.compile("([0-9.]+)(Ki|Mi|Gi|Ti|k|M|G|T|)");

    /** Secrets a test made: the Secret's name to a host directory holding its keys as files (mounted read-only). */
    static final Map<String, java.nio.file.Path> SECRETS = new java.util.concurrent.ConcurrentHashMap<>();
    /** PersistentVolumeClaims a test made (other than the StatefulSet's own): the claim's name to a host directory. */
    static final Map<String, java.nio.file.Path> CLAIMS = new java.util.concurrent.ConcurrentHashMap<>();

    private StatefulSetPods() {
    }

    /** One pod of the StatefulSet as Kubernetes would name it. */
    record Pod(int ordinal, String name, String namespace, String fqdn) {
    }

    static Pod pod(JsonNode statefulSet, String namespace, int ordinal) {
        String name = statefulSet.path("metadata").path("name").asText() + "-" + ordinal;
        String subdomain = statefulSet.path("spec").path("serviceName").asText();
        if (subdomain.isEmpty()) {
            throw new AssertionError("the StatefulSet has no serviceName: its pods get no DNS names");
        }
        return new Pod(ordinal, name, namespace, name + "." + subdomain + "." + namespace + ".svc." + CLUSTER_DOMAIN);
    }

    /** The pod's container as a Testcontainers container (not started), on {@code network}. */
    static GenericContainer<?> container(JsonNode statefulSet, Pod pod, Network network) {
        JsonNode podSpec = statefulSet.path("spec").path("template").path("spec");
        if (podSpec.has("initContainers")) {
            throw new AssertionError("initContainers are not emulated (use the variant with claim volumes)");
        }
        return container(statefulSet, pod, network, Map.of());
    }

    /**
     * The pod's container, with the claims of its volumeClaimTemplates as the named Docker volumes {@code claimVolumes}
     * gives (mount path to volume name; they outlive the container, as a claim outlives its pod) instead of tmpfs.
     * Init containers are left to {@link #initContainers}, which the caller runs first with the same volumes.
     */
    static GenericContainer<?> container(JsonNode statefulSet, Pod pod, Network network, Map<String, String> claimVolumes) {
        JsonNode podSpec = statefulSet.path("spec").path("template").path("spec");
        JsonNode containers = podSpec.path("containers");
        if (containers.size() != 1) {
            throw new AssertionError("expected one container, found " + containers.size());
        }
        JsonNode c = containers.get(0);
        GenericContainer<?> container = build(statefulSet, c, pod, network, claimVolumes).withNetworkAliases(pod.fqdn());
        List<Integer> ports = new ArrayList<>();
        for (JsonNode p : c.path("ports")) {
            ports.add(p.path("containerPort").asInt());
        }
        container.withExposedPorts(ports.toArray(Integer[]::new));
        return withProbe(container, c);
    }

    /**
     * The pod's init containers, in order, each as a one-shot container that must exit 0 within {@code timeout} (what
     * the kubelet requires before it starts the pod's container), with the same volumes.
     */
    static List<GenericContainer<?>> initContainers(JsonNode statefulSet, Pod pod, Network network,
                                                    Map<String, String> claimVolumes, Duration timeout) {
        List<GenericContainer<?>> out = new ArrayList<>();
        for (JsonNode c : statefulSet.path("spec").path("template").path("spec").path("initContainers")) {
            out.add(build(statefulSet, c, pod, network, claimVolumes).withStartupCheckStrategy(
                    new org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy().withTimeout(timeout)));
        }
        return out;
    }

    /** A container of the pod spec: image, env, command, args, volumes, user and the security settings. */
    private static GenericContainer<?> build(JsonNode statefulSet, JsonNode c, Pod pod, Network network,
                                             Map<String, String> claimVolumes) {
        JsonNode podSpec = statefulSet.path("spec").path("template").path("spec");
        Map<String, String> env = resolveEnv(c.path("env"), pod);
        List<String> command = expandAll(c.path("command"), env);
        List<String> args = expandAll(c.path("args"), env);
        JsonNode podSc = podSpec.path("securityContext");
        JsonNode sc = c.path("securityContext");

        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(c.path("image").asText()))
                // No registry: never pull, use the local image only.
                .withImagePullPolicy(image -> false)
                .withNetwork(network)
                .withEnv(env);

        String user = first(sc, podSc, "runAsUser");
        String group = first(sc, podSc, "runAsGroup");
        String fsGroup = podSc.has("fsGroup") ? podSc.path("fsGroup").asText() : null;

        // Volumes: emptyDirs and the claims of volumeClaimTemplates both become tmpfs mounts (the IT never restarts a
        // pod). Kubernetes makes them writable to the pod's user (emptyDir: mode 0777; claims: fsGroup ownership).
        // Docker's tmpfs takes the mode of the image's directory, so they are owned by the pod's user and fsGroup
        // instead; an image directory the user cannot write through that is caught all the same.
        Map<String, String> tmpfs = new LinkedHashMap<>();
        List<com.github.dockerjava.api.model.Bind> secretBinds = new ArrayList<>();
        for (JsonNode m : c.path("volumeMounts")) {
            String name = m.path("name").asText();
            String kind = volumeKind(statefulSet, name);
            if (kind.equals("secret")) {
                // A secret volume: the directory of a Secret the test made (SECRETS), read-only.
                String secretName = secretName(statefulSet, name);
                java.nio.file.Path dir = SECRETS.get(secretName);
                if (dir == null) {
                    throw new AssertionError("secret " + secretName + " is not one the test made (StatefulSetPods.SECRETS)");
                }
                secretBinds.add(new com.github.dockerjava.api.model.Bind(dir.toAbsolutePath().toString(),
                        new com.github.dockerjava.api.model.Volume(m.path("mountPath").asText()),
                        com.github.dockerjava.api.model.AccessMode.ro));
                continue;
            }
            String mountPath = m.path("mountPath").asText();
            if (kind.equals("volumeClaimTemplate") && claimVolumes.containsKey(mountPath)) {
                secretBinds.add(new com.github.dockerjava.api.model.Bind(claimVolumes.get(mountPath),
                        new com.github.dockerjava.api.model.Volume(mountPath)));
                continue;
            }
            if (kind.equals("persistentVolumeClaim")) {
                // A claim of the test's (CLAIMS): a host directory, read-only when the mount or the volume says so.
                String claim = claimName(statefulSet, name);
                java.nio.file.Path dir = CLAIMS.get(claim);
                if (dir == null) {
                    throw new AssertionError("claim " + claim + " is not one the test made (StatefulSetPods.CLAIMS)");
                }
                boolean ro = m.path("readOnly").asBoolean(false) || claimReadOnly(statefulSet, name);
                secretBinds.add(new com.github.dockerjava.api.model.Bind(dir.toAbsolutePath().toString(),
                        new com.github.dockerjava.api.model.Volume(mountPath),
                        ro ? com.github.dockerjava.api.model.AccessMode.ro : com.github.dockerjava.api.model.AccessMode.rw));
                continue;
            }
            if (!kind.equals("emptyDir") && !kind.equals("volumeClaimTemplate")) {
                throw new AssertionError("volume " + name + " (" + kind + ") is not emulated");
            }
            String options = "rw";
            if (user != null) {
                options += ",uid=" + user;
            }
            if (fsGroup != null || group != null) {
                options += ",gid=" + (fsGroup != null ? fsGroup : group);
            }
            tmpfs.put(m.path("mountPath").asText(), options);
        }
        container.withTmpFs(tmpfs);
        boolean readOnlyRoot = sc.path("readOnlyRootFilesystem").asBoolean(false);
        boolean noNewPrivileges = sc.has("allowPrivilegeEscalation") && !sc.path("allowPrivilegeEscalation").asBoolean();
        List<String> drop = new ArrayList<>();
        sc.path("capabilities").path("drop").forEach(d -> drop.add(d.asText()));
        if (sc.path("capabilities").has("add") || sc.path("privileged").asBoolean(false)) {
            throw new AssertionError("added capabilities / privileged mode are not emulated");
        }
        Long memory = bytes(c.path("resources").path("limits").path("memory").asText(null));

        container.withCreateContainerCmdModifier((CreateContainerCmd cmd) -> {
            cmd.withHostName(pod.name());
            if (!command.isEmpty()) {
                cmd.withEntrypoint(command);
            }
            if (!args.isEmpty()) {
                cmd.withCmd(args);
            }
            if (user != null) {
                cmd.withUser(group != null ? user + ":" + group : user);
            }
            HostConfig host = cmd.getHostConfig();
            if (!secretBinds.isEmpty()) {
                host.withBinds(secretBinds);
            }
            // Kubernetes' resolv.conf search path, so short service names resolve as they would in a pod.
            host.withDnsSearch(List.of(pod.namespace() + ".svc." + CLUSTER_DOMAIN, "svc." + CLUSTER_DOMAIN, CLUSTER_DOMAIN));
            host.withReadonlyRootfs(readOnlyRoot);
            if (fsGroup != null) {
                host.withGroupAdd(List.of(fsGroup));
            }
            if (noNewPrivileges) {
                host.withSecurityOpts(List.of("no-new-privileges"));
            }
            if (!drop.isEmpty()) {
                host.withCapDrop(drop.stream().map(Capability::valueOf).toArray(Capability[]::new));
            }
            if (memory != null) {
                host.withMemory(memory).withMemorySwap(memory);
            }
        });

        return container;
    }

    static GenericContainer<?> withProbe(GenericContainer<?> container, JsonNode c) {
        // Started = the startup probe (else liveness) answers 200, as the kubelet would consider it started.
        JsonNode probe = c.has("startupProbe") ? c.path("startupProbe") : c.path("livenessProbe");
        if (probe.path("httpGet").isMissingNode()) {
            throw new AssertionError("the container has no httpGet startup or liveness probe");
        }
        container.waitingFor(new ProbeWait(probe.path("httpGet").path("path").asText(), port(c, probe.path("httpGet").path("port")))
                .withStartupTimeout(Duration.ofSeconds(120)));
        return container;
    }

    /** Waits for an HTTP 200 on a path, and gives up at once when the container exits (a node that cannot start). */
    static final class ProbeWait extends AbstractWaitStrategy {
        private final String path;
        private final int port;

        ProbeWait(String path, int port) {
            this.path = path;
            this.port = port;
        }

        @Override
        protected void waitUntilReady() {
            long deadline = System.nanoTime() + startupTimeout.toNanos();
            while (true) {
                if (!waitStrategyTarget.isRunning()) {
                    throw new ContainerLaunchException("the container exited (code "
                            + waitStrategyTarget.getCurrentContainerInfo().getState().getExitCodeLong() + ") before " + path
                            + " answered 200");
                }
                try {
                    URI uri = URI.create("http://" + waitStrategyTarget.getHost() + ":" + waitStrategyTarget.getMappedPort(port) + path);
                    HttpURLConnection conn = (HttpURLConnection) uri.toURL().openConnection();
                    conn.setConnectTimeout(1000);
                    conn.setReadTimeout(2000);
                    int code = conn.getResponseCode();
                    conn.disconnect();
                    if (code == 200) {
                        return;
                    }
                } catch (IOException e) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    throw new ContainerLaunchException(path + " did not answer 200 within " + startupTimeout.toSeconds() + " s");
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ContainerLaunchException("interrupted");
                }
            }
        }
    }

    /** A probe's or Service's port (a number or a container port name) as a container port number. */
    static int port(JsonNode container, JsonNode port) {
        if (port.isInt() || port.asText().matches("[0-9]+")) {
            return port.asInt();
        }
        for (JsonNode p : container.path("ports")) {
            if (port.asText().equals(p.path("name").asText())) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + port.asText());
    }

    /** The env as the kubelet gives it to the process: downward API filled in, $(VAR) references expanded. */
    static Map<String, String> resolveEnv(JsonNode envList, Pod pod) {
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : envList) {
            String name = e.path("name").asText();
            String value;
            if (e.has("valueFrom")) {
                JsonNode from = e.path("valueFrom");
                if (!from.has("fieldRef")) {
                    throw new AssertionError("env " + name + ": only fieldRef is emulated, not " + from);
                }
                String field = from.path("fieldRef").path("fieldPath").asText();
                value = switch (field) {
                    case "metadata.name" -> pod.name();
                    case "metadata.namespace" -> pod.namespace();
                    default -> throw new AssertionError("env " + name + ": fieldRef " + field + " is not emulated");
                };
            } else {
                // Only variables defined earlier in the list are expanded, as in Kubernetes.
                value = expand(e.path("value").asText(""), env);
            }
            env.put(name, value);
        }
        return env;
    }

    /**
     * Kubernetes' expansion of env values, command and args: $(NAME) becomes the variable's value when NAME is defined,
     * else stays as written; $$ becomes $; any other $ is kept.
     */
    static String expand(String in, Map<String, String> vars) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < in.length()) {
            char ch = in.charAt(i);
            if (ch != '$' || i + 1 == in.length()) {
                out.append(ch);
                i++;
            } else if (in.charAt(i + 1) == '$') {
                out.append('$');
                i += 2;
            } else if (in.charAt(i + 1) == '(') {
                int close = in.indexOf(')', i + 2);
                if (close < 0) {
                    out.append(in, i, in.length());
                    break;
                }
                String name = in.substring(i + 2, close);
                String value = vars.get(name);
                out.append(value != null ? value : "$(" + name + ")");
                i = close + 1;
            } else {
                out.append(ch).append(in.charAt(i + 1));
                i += 2;
            }
        }
        return out.toString();
    }

    /** A Kubernetes quantity (512Mi, 1G, 1000) as bytes; null for null. */
    static Long bytes(String quantity) {
        if (quantity == null || quantity.isEmpty()) {
            return null;
        }
        Matcher m = QUANTITY.matcher(quantity);
        if (!m.matches()) {
            throw new AssertionError("memory quantity " + quantity + " is not emulated");
        }
        long unit = switch (m.group(2)) {
            case "Ki" -> 1L << 10;
            case "Mi" -> 1L << 20;
            case "Gi" -> 1L << 30;
            case "Ti" -> 1L << 40;
            case "k" -> 1_000L;
            case "M" -> 1_000_000L;
            case "G" -> 1_000_000_000L;
            case "T" -> 1_000_000_000_000L;
            default -> 1L;
        };
        return new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unit)).longValue();
    }

    private static List<String> expandAll(JsonNode list, Map<String, String> env) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(expand(n.asText(), env)));
        return out;
    }

    private static String kindOfVolume(JsonNode volume) {
        for (var it = volume.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("name")) {
                return f;
            }
        }
        return "unknown";
    }

    private static String secretName(JsonNode statefulSet, String volume) {
        for (JsonNode v : statefulSet.path("spec").path("template").path("spec").path("volumes")) {
            if (volume.equals(v.path("name").asText())) {
                return v.path("secret").path("secretName").asText();
            }
        }
        throw new AssertionError("no volume " + volume);
    }

    private static String claimName(JsonNode statefulSet, String volume) {
        return volumeNode(statefulSet, volume).path("persistentVolumeClaim").path("claimName").asText();
    }

    private static boolean claimReadOnly(JsonNode statefulSet, String volume) {
        return volumeNode(statefulSet, volume).path("persistentVolumeClaim").path("readOnly").asBoolean(false);
    }

    private static JsonNode volumeNode(JsonNode statefulSet, String volume) {
        for (JsonNode v : statefulSet.path("spec").path("template").path("spec").path("volumes")) {
            if (volume.equals(v.path("name").asText())) {
                return v;
            }
        }
        throw new AssertionError("no volume " + volume);
    }

    private static String volumeKind(JsonNode statefulSet, String name) {
        for (JsonNode v : statefulSet.path("spec").path("template").path("spec").path("volumes")) {
            if (name.equals(v.path("name").asText())) {
                return kindOfVolume(v);
            }
        }
        for (JsonNode t : statefulSet.path("spec").path("volumeClaimTemplates")) {
            if (name.equals(t.path("metadata").path("name").asText())) {
                return "volumeClaimTemplate";
            }
        }
        throw new AssertionError("volumeMount " + name + " has no volume or volumeClaimTemplate");
    }

    private static String first(JsonNode container, JsonNode pod, String field) {
        if (container.has(field)) {
            return container.path(field).asText();
        }
        return pod.has(field) ? pod.path(field).asText() : null;
    }
}
