package io.raftkv.it.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.Volume;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * A raftkv cluster of real containers from the locally built image (system property {@code it.image}, default
 * raftkv:jvm; never pulled): nodes node1..nodeN on a private network with those DNS aliases, each on its own named
 * volume. Nodes can be SIGKILLed and started again (same container, volume, IP and aliases), and cut off from their
 * peers with iptables inside their network namespace (the host's published port keeps working).
 */
final class ContainerCluster implements AutoCloseable {

    static final String IMAGE = System.getProperty("it.image", "raftkv:jvm");
    private static final int PORT = 8080;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Network network = Network.newNetwork();
    private final Map<String, GenericContainer<?>> nodes = new java.util.concurrent.ConcurrentSkipListMap<>(); // node1..node9, in order
    private final Map<String, Integer> hostPorts = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> volumes = new ArrayList<>();
    private final Map<String, String> volumeOf = new java.util.concurrent.ConcurrentHashMap<>();
    private final String run;
    private final Map<String, String> env;
    private final String peers;
    private final DockerClient docker = DockerClientFactory.instance().client();

    ContainerCluster(int size) {
        this(size, Map.of());
    }

    /** A cluster whose nodes all get {@code env} on top of the defaults (e.g. small snapshot thresholds). */
    ContainerCluster(int size, Map<String, String> env) {
        this.run = UUID.randomUUID().toString().substring(0, 8);
        this.env = env;
        List<String> peers = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            peers.add("node" + i + "=http://node" + i + ":" + PORT);
        }
        this.peers = String.join(",", peers);
        for (int i = 1; i <= size; i++) {
            String id = "node" + i;
            nodes.put(id, newContainer(id, this.peers, Map.of()));
        }
    }

    /** A node's container (not started) on a new named volume; {@code extraEnv} on top of the cluster's env. */
    private GenericContainer<?> newContainer(String id, String peerList, Map<String, String> extraEnv) {
        String volume = "raftkv-it-" + run + "-" + id + "-" + volumes.size();
        volumes.add(volume);
        volumeOf.put(id, volume);
        return new GenericContainer<>(DockerImageName.parse(IMAGE))
                .withImagePullPolicy(image -> false)
                .withNetwork(network)
                .withNetworkAliases(id)
                .withExposedPorts(PORT)
                .withEnv("RAFTKV_NODE_ID", id)
                .withEnv("RAFTKV_PEERS", peerList)
                .withEnv("RAFTKV_ELECTION_TIMEOUT", "500ms")
                .withEnv(env)
                .withEnv(extraEnv)
                // As the Helm chart runs it: a read-only root file system, /data and a small /tmp writable.
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withBinds(withPeerTls(id, new Bind(volume, new Volume("/data"))))
                        .withReadonlyRootfs(true)
                        .withTmpFs(Map.of("/tmp", "rw,size=64m")))
                .waitingFor(Wait.forHttp("/q/health/live").forPort(PORT).withStartupTimeout(Duration.ofSeconds(90)));
    }

    /**
     * Starts a node that is not one of the initial members, on a new empty volume, as the chart's new ordinals run:
     * initial-cluster-state=existing and raftkv.join=true (it asks the others to add it).
     */
    void addNode(String id) {
        GenericContainer<?> c = newContainer(id, peers + "," + id + "=http://" + id + ":" + PORT, joining());
        nodes.put(id, c);
        c.start();
        hostPorts.put(id, c.getMappedPort(PORT));
    }

    /**
     * The node's volume is lost: its container and volume are removed, and a new container of the same id and
     * network alias starts on an empty volume (joining, as a rescheduled pod would after an upgrade).
     */
    void wipe(String id) {
        stop(id);
        GenericContainer<?> c = newContainer(id, peers.contains(id + "=") ? peers : peers + "," + id + "=http://" + id + ":" + PORT, joining());
        nodes.put(id, c);
        c.start();
        hostPorts.put(id, c.getMappedPort(PORT));
    }

    /** Removes a node's container and its volume (a pod that is gone for good). */
    void stop(String id) {
        GenericContainer<?> old = nodes.get(id);
        hostPorts.remove(id);
        old.stop();
        try {
            docker.removeVolumeCmd(volumeOf.get(id)).exec();
        } catch (RuntimeException e) {
            // already gone
        }
    }

    private static Map<String, String> joining() {
        return Map.of("RAFTKV_INITIAL_CLUSTER_STATE", "existing", "RAFTKV_JOIN", "true", "RAFTKV_JOIN_INTERVAL", "500ms");
    }

    /**
     * {@code binds} plus node {@code id}'s peer TLS files (ca.crt, id.crt, id.key) mounted read-only in /tls, where the
     * image looks for them: created by scripts/peer-certs.sh in target/it-peer-certs on first use, one CA per test run.
     * Synchronized: containers are created in parallel, and the CA must be made once.
     */
    static synchronized Bind[] withPeerTls(String id, Bind... binds) {
        java.nio.file.Path dir = java.nio.file.Path.of("target/it-peer-certs").toAbsolutePath();
        try {
            Process p = new ProcessBuilder("bash", java.nio.file.Path.of("scripts/peer-certs.sh").toAbsolutePath().toString(),
                    dir.toString(), id).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("scripts/peer-certs.sh failed: " + out);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        List<Bind> all = new ArrayList<>(List.of(binds));
        for (String f : new String[] {"ca.crt", id + ".crt", id + ".key"}) {
            all.add(new Bind(dir.resolve(f).toString(), new Volume("/tls/" + f), com.github.dockerjava.api.model.AccessMode.ro));
        }
        return all.toArray(Bind[]::new);
    }

    void start() {
        nodes.values().parallelStream().forEach(GenericContainer::start);
        nodes.forEach((id, c) -> hostPorts.put(id, c.getMappedPort(PORT)));
    }

    List<String> ids() {
        return new ArrayList<>(nodes.keySet());
    }

    /** The named volume holding a node's data directory (/data). */
    String volume(String id) {
        return volumeOf.get(id);
    }

    /** SIGKILL (docker kill): the container stops at once; its volume, IP and aliases are kept. */
    void kill(String id) {
        docker.killContainerCmd(nodes.get(id).getContainerId()).exec();
        hostPorts.remove(id);
    }

    /** SIGSTOP (docker pause): the node freezes, connections stay open and time out; {@link #unpause} resumes it. */
    void pause(String id) {
        docker.pauseContainerCmd(nodes.get(id).getContainerId()).exec();
    }

    void unpause(String id) {
        docker.unpauseContainerCmd(nodes.get(id).getContainerId()).exec();
    }

    /** SIGTERM with 10 s grace (docker stop): a graceful shutdown, as a rolling update does; {@link #restart} after. */
    void gracefulStop(String id) {
        hostPorts.remove(id);
        docker.stopContainerCmd(nodes.get(id).getContainerId()).withTimeout(10).exec();
    }

    /** Starts a killed node's container again and waits until it answers; the published port changes. */
    void restart(String id) throws InterruptedException {
        String cid = nodes.get(id).getContainerId();
        docker.startContainerCmd(cid).exec();
        int port = await("a host port for " + id, Duration.ofSeconds(30), () -> {
            Ports.Binding[] b = docker.inspectContainerCmd(cid).exec().getNetworkSettings().getPorts().getBindings()
                    .get(ExposedPort.tcp(PORT));
            return b == null || b.length == 0 ? Optional.empty() : Optional.of(Integer.parseInt(b[0].getHostPortSpec()));
        });
        hostPorts.put(id, port);
        await(id + " answering after restart", Duration.ofSeconds(60),
                () -> get(id, "/q/health/live").filter(r -> r.statusCode() == 200));
    }

    String ip(String id) {
        return docker.inspectContainerCmd(nodes.get(id).getContainerId()).exec().getNetworkSettings().getNetworks()
                .values().iterator().next().getIpAddress();
    }

    private long pid(String id) {
        return docker.inspectContainerCmd(nodes.get(id).getContainerId()).exec().getState().getPidLong();
    }

    /** Drops all traffic between {@code id} and its peers, inside its network namespace. */
    void isolate(String id) throws IOException, InterruptedException {
        for (String peer : ids()) {
            if (!peer.equals(id)) {
                iptables(id, "-I", "INPUT", "-s", ip(peer), "-j", "DROP");
                iptables(id, "-I", "OUTPUT", "-d", ip(peer), "-j", "DROP");
            }
        }
    }

    void heal(String id) throws IOException, InterruptedException {
        for (String peer : ids()) {
            if (!peer.equals(id)) {
                iptables(id, "-D", "INPUT", "-s", ip(peer), "-j", "DROP");
                iptables(id, "-D", "OUTPUT", "-d", ip(peer), "-j", "DROP");
            }
        }
    }

    private void iptables(String id, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Long.toString(pid(id)), "-n", "iptables"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    String fileOf(String id, String path) {
        return nodes.get(id).copyFileFromContainer(path, in -> new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }

    String url(String id) {
        Integer port = hostPorts.get(id);
        if (port == null) {
            throw new IllegalStateException(id + " is down");
        }
        return "http://" + nodes.get(id).getHost() + ":" + port;
    }

    Optional<HttpResponse<String>> get(String id, String path) {
        if (!hostPorts.containsKey(id)) {
            return Optional.empty();
        }
        try {
            return Optional.of(HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + path)).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    Optional<String> status(String id) {
        return get(id, "/v1/status").filter(r -> r.statusCode() == 200).map(HttpResponse::body);
    }

    Optional<String> staleGet(String id, String key) {
        return get(id, "/v1/kv/" + key + "?consistency=stale").filter(r -> r.statusCode() == 200).map(HttpResponse::body);
    }

    /**
     * Any request to one node as is (no redirect following): {@code body} null for none; {@code headers} as
     * name, value pairs.
     */
    HttpResponse<String> send(String id, String method, String path, byte[] body, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(id) + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A GET whose body is kept as bytes. */
    HttpResponse<byte[]> sendForBytes(String id, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** A PUT sent to one node as is (no redirect following). */
    HttpResponse<String> put(String id, String key, String value, Duration timeout) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + "/v1/kv/" + key)).timeout(timeout)
                .PUT(HttpRequest.BodyPublishers.ofString(value)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The one node among {@code among} that reports itself leader, if exactly one does. */
    Optional<String> leaderAmong(List<String> among) {
        List<String> leaders = new ArrayList<>();
        for (String id : among) {
            status(id).filter(s -> "leader".equals(field(s, "role"))).ifPresent(s -> leaders.add(id));
        }
        return leaders.size() == 1 ? Optional.of(leaders.get(0)) : Optional.empty();
    }

    List<String> up() {
        return new ArrayList<>(hostPorts.keySet());
    }

    static String field(String json, String name) {
        return io.raftkv.it.Waits.field(json, name);
    }

    static long longField(String json, String name) {
        return Long.parseLong(field(json, name));
    }

    static <T> T await(String what, Duration timeout, Supplier<Optional<T>> probe) throws InterruptedException {
        return io.raftkv.it.Waits.await(what, timeout, probe);
    }

    @Override
    public void close() {
        for (GenericContainer<?> c : nodes.values()) {
            try {
                c.stop();
            } catch (RuntimeException e) {
                // keep closing the others
            }
        }
        for (String v : volumes) {
            try {
                docker.removeVolumeCmd(v).exec();
            } catch (RuntimeException e) {
                // already gone
            }
        }
        network.close();
    }
}
