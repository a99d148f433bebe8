package io.raftkv.it;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A raftkv cluster of real JVM processes started from the packaged application (target/quarkus-app), each on a free
 * client port and a free peer port with its own data directory. Peers run mutual TLS with certificates made by
 * scripts/peer-certs.sh in {@code <root>/tls}, as {@code make run} does. Nodes can be SIGKILLed and restarted on the
 * same data. {@code -Dit.runner=<native executable>} runs that instead of the packaged jar.
 */
final class ProcessCluster implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Path root;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, Integer> peerPorts = new LinkedHashMap<>();
    private final String peerUrls;
    private final Map<String, String> env = new LinkedHashMap<>();
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final Map<String, Map<String, String>> nodeEnv = new LinkedHashMap<>();
    private final String peers;
    /** Extra environment for a node's process (id, environment), e.g. TLS and authentication settings. */
    private java.util.function.BiConsumer<String, Map<String, String>> envHook = (id, e) -> { };

    ProcessCluster(Path root, int size) throws IOException {
        this.root = root;
        Files.createDirectories(root);
        List<String> list = new ArrayList<>();
        List<String> peerList = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            int port = freePort();
            ports.put("node" + i, port);
            list.add("node" + i + "=http://127.0.0.1:" + port);
            int peerPort = freePort();
            peerPorts.put("node" + i, peerPort);
            peerList.add("node" + i + "=127.0.0.1:" + peerPort);
        }
        this.peers = String.join(",", list);
        this.peerUrls = String.join(",", peerList);
        certificates(tlsDir(), ports.keySet().toArray(String[]::new));
    }

    /** The cluster's CA and node certificates, as make run creates them. */
    static void certificates(Path dir, String... ids) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("bash", Path.of("scripts/peer-certs.sh").toAbsolutePath().toString(), dir.toString()));
        cmd.addAll(List.of(ids));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IOException("scripts/peer-certs.sh failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** An environment variable for every node started from now on. */
    ProcessCluster env(String name, String value) {
        env.put(name, value);
        return this;
    }

    Path tlsDir() {
        return root.resolve("tls");
    }

    int peerPort(String id) {
        return peerPorts.get(id);
    }

    /**
     * A node that is not one of the cluster's initial members: its own port and data directory; it starts with
     * initial-cluster-state=existing and knows the initial members as peers (the cluster learns its URL when it is
     * added).
     */
    void addSlot(String id) throws IOException {
        int port = freePort();
        ports.put(id, port);
        int peerPort = freePort();
        peerPorts.put(id, peerPort);
        certificates(tlsDir(), id);
        env(id, "RAFTKV_PEERS", peers + "," + id + "=http://127.0.0.1:" + port);
        env(id, "RAFTKV_PEER_URLS", peerUrls + "," + id + "=127.0.0.1:" + peerPort);
        env(id, "RAFTKV_INITIAL_CLUSTER_STATE", "existing");
    }

    /** An environment variable for the node's next starts (null removes it). */
    void env(String id, String name, String value) {
        Map<String, String> m = nodeEnv.computeIfAbsent(id, k -> new LinkedHashMap<>());
        if (value == null) {
            m.remove(name);
        } else {
            m.put(name, value);
        }
    }

    /** Adds to every node's environment from now on. */
    ProcessCluster env(java.util.function.BiConsumer<String, Map<String, String>> extra) {
        this.envHook = extra;
        return this;
    }

    int port(String id) {
        return ports.get(id);
    }

    List<String> ids() {
        return new ArrayList<>(ports.keySet());
    }

    Path dataDir(String id) {
        return root.resolve(id);
    }

    void startAll() throws IOException {
        for (String id : ports.keySet()) {
            start(id);
        }
    }

    void start(String id) throws IOException {
        ProcessBuilder pb;
        String runner = System.getProperty("it.runner", "");
        if (!runner.isBlank()) {
            // -Dit.runner=target/raftkv-...-runner: the native executable instead of the jar.
            pb = new ProcessBuilder(Path.of(runner).toAbsolutePath().toString(), "-Xmx256m");
        } else {
            Path jar = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
            if (!Files.exists(jar)) {
                throw new IllegalStateException(jar + " is missing: run the package phase first");
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            pb = new ProcessBuilder(java, "-Xmx256m", "-jar", jar.toString());
        }
        pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(ports.get(id)));
        pb.environment().put("RAFTKV_NODE_ID", id);
        pb.environment().put("RAFTKV_PEERS", peers);
        pb.environment().put("RAFTKV_PEER_URLS", peerUrls);
        pb.environment().put("RAFTKV_PEER_TLS_DIR", tlsDir().toString());
        pb.environment().putAll(env);
        pb.environment().put("RAFTKV_DATA_DIR", dataDir(id).toString());
        pb.environment().putAll(nodeEnv.getOrDefault(id, Map.of()));
        envHook.accept(id, pb.environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(id + ".log").toFile()));
        processes.put(id, pb.start());
    }

    /** The ids of the nodes running now. */
    List<String> running() {
        return new ArrayList<>(processes.keySet());
    }

    /** The process of a started node (to wait for its exit). */
    Process process(String id) {
        return processes.get(id);
    }

    String log(String id) throws IOException {
        return Files.readString(root.resolve(id + ".log"));
    }

    /** SIGKILL: the process gets no chance to flush anything. */
    void kill(String id) throws InterruptedException {
        Process p = processes.remove(id);
        if (p != null) {
            p.destroyForcibly();
            p.waitFor();
        }
    }

    String url(String id) {
        return "http://127.0.0.1:" + ports.get(id);
    }

    Optional<String> status(String id) {
        return get(id, "/v1/status").filter(r -> r.statusCode() == 200).map(HttpResponse::body);
    }

    Optional<String> staleGet(String id, String key) {
        return get(id, "/v1/kv/" + key + "?consistency=stale").filter(r -> r.statusCode() == 200).map(HttpResponse::body);
    }

    Optional<HttpResponse<String>> get(String id, String path) {
        try {
            return Optional.of(HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + path)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    HttpResponse<String> put(String id, String key, String value) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + "/v1/kv/" + key)).timeout(Duration.ofSeconds(10))
                .PUT(HttpRequest.BodyPublishers.ofString(value)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POSTs {@code body} as a peer batch would have been sent to the client port (before issue 11); the status. */
    int postBytes(String id, String path, byte[] body, String sender) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + path)).timeout(Duration.ofSeconds(5))
                .header("X-Raftkv-From", sender).header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    HttpResponse<String> post(String id, String pathAndQuery) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url(id) + pathAndQuery)).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A PUT as a careful client does it: a refusal without effect (503: no leader yet, or the slot was lost to a leader
     * change; 307: not the leader any more) is retried at whichever node leads now, until {@code timeout}.
     */
    HttpResponse<String> putAtLeader(String id, String key, String value, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        String target = id;
        while (true) {
            HttpResponse<String> r = put(target, key, value);
            if ((r.statusCode() != 503 && r.statusCode() != 307) || System.nanoTime() > deadline) {
                return r;
            }
            List<String> live = new ArrayList<>(processes.keySet());
            target = await("a leader", timeout, () -> leaderAmong(live));
        }
    }

    /** The node that reports itself leader among {@code among}, if exactly one does. */
    Optional<String> leaderAmong(List<String> among) {
        List<String> leaders = new ArrayList<>();
        for (String id : among) {
            status(id).filter(s -> "leader".equals(field(s, "role"))).ifPresent(s -> leaders.add(id));
        }
        return leaders.size() == 1 ? Optional.of(leaders.get(0)) : Optional.empty();
    }

    static String field(String json, String name) {
        return io.raftkv.it.Waits.field(json, name);
    }

    static <T> T await(String what, Duration timeout, Supplier<Optional<T>> probe) throws InterruptedException {
        return io.raftkv.it.Waits.await(what, timeout, probe);
    }

    /** Deletes a directory and everything in it (a node's lost volume); nothing if it is not there. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (String id : new ArrayList<>(processes.keySet())) {
            kill(id);
        }
    }
}
