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
 * port with its own data directory. Nodes can be SIGKILLed and restarted on the same data.
 */
final class ProcessCluster implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final Path root;
    private final Map<String, Integer> ports = new LinkedHashMap<>();
    private final Map<String, Process> processes = new LinkedHashMap<>();
    private final String peers;
    /** Extra environment for a node's process (id, environment), e.g. TLS and authentication settings. */
    private java.util.function.BiConsumer<String, Map<String, String>> env = (id, e) -> { };

    ProcessCluster(Path root, int size) throws IOException {
        this.root = root;
        Files.createDirectories(root);
        List<String> list = new ArrayList<>();
        for (int i = 1; i <= size; i++) {
            int port = freePort();
            ports.put("node" + i, port);
            list.add("node" + i + "=http://127.0.0.1:" + port);
        }
        this.peers = String.join(",", list);
    }

    /** Adds to every node's environment from now on. */
    ProcessCluster env(java.util.function.BiConsumer<String, Map<String, String>> extra) {
        this.env = extra;
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
        Path jar = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new IllegalStateException(jar + " is missing: run the package phase first");
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-jar", jar.toString());
        pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(ports.get(id)));
        pb.environment().put("RAFTKV_NODE_ID", id);
        pb.environment().put("RAFTKV_PEERS", peers);
        pb.environment().put("RAFTKV_DATA_DIR", dataDir(id).toString());
        env.accept(id, pb.environment());
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(root.resolve(id + ".log").toFile()));
        processes.put(id, pb.start());
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
