package io.raftkv.server;

import io.quarkus.runtime.Quarkus;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * {@code raftkv warm-up [DIR]}: a training run for the JVM's class-data archive (AppCDS). It starts a throw-away
 * single-member cluster with its data in DIR (default: a new temporary directory) on free loopback ports, plain-TCP
 * peers and no client authentication, whatever the environment configures; drives the request paths a node serves
 * (a write with a session, a conditional write, reads, a listing, a delete, status, health, metrics) and exits 0, or
 * 1 if any of that failed. Run under {@code -XX:ArchiveClassesAtExit=FILE}, the classes it loaded are archived, and
 * a node started with {@code -XX:SharedArchiveFile=FILE} maps them instead of loading, verifying and linking them
 * again: a JVM image member is ready 20-25% sooner after a restart.
 */
final class WarmUp {

    private static final Duration DEADLINE = Duration.ofSeconds(120);

    private WarmUp() {
    }

    /** Configures the throw-away node (system properties outrank the environment) and runs Quarkus; exits. */
    static void run(String[] args) {
        try {
            Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("raftkv-warm-up");
            Files.createDirectories(dir);
            int clientPort = freePort();
            int peerPort = freePort();
            String url = "http://127.0.0.1:" + clientPort;
            System.setProperty("quarkus.http.host", "127.0.0.1");
            System.setProperty("quarkus.http.port", Integer.toString(clientPort));
            System.setProperty("raftkv.node-id", "warm-up");
            System.setProperty("raftkv.peers", "warm-up=" + url);
            System.setProperty("raftkv.peer-port", Integer.toString(peerPort));
            System.setProperty("raftkv.peer-host", "127.0.0.1");
            System.setProperty("raftkv.peer-tls", "false");
            System.setProperty("raftkv.data-dir", dir.toAbsolutePath().toString());
            System.setProperty("raftkv.initial-cluster-state", "new");
            System.setProperty("raftkv.auth.enabled", "false");
            System.setProperty("raftkv.auth.tokens-file", "");
            Thread driver = new Thread(() -> drive(URI.create(url)), "raftkv-warm-up");
            driver.setDaemon(true);
            driver.start();
        } catch (IOException e) {
            System.err.println("raftkv warm-up: " + e.getMessage());
            System.exit(1);
        }
        Quarkus.run();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void drive(URI base) {
        int status = 0;
        try {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (!ok(http, get(base, "/q/health/ready"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the node was not ready within " + DEADLINE.toSeconds() + " s");
                }
                Thread.sleep(50);
            }
            List<HttpRequest> requests = List.of(
                    HttpRequest.newBuilder(base.resolve("/v1/kv/warm-up/a")).header("Raftkv-Client-Id", "warm-up")
                            .header("Raftkv-Request-Seq", "1").PUT(HttpRequest.BodyPublishers.ofString("1")).build(),
                    HttpRequest.newBuilder(base.resolve("/v1/kv/warm-up/b"))
                            .PUT(HttpRequest.BodyPublishers.ofString("{\"n\":2}")).build(),
                    get(base, "/v1/kv/warm-up/a"),
                    get(base, "/v1/kv/warm-up/a?consistency=stale"),
                    get(base, "/v1/kv?prefix=warm-up/"),
                    HttpRequest.newBuilder(base.resolve("/v1/kv/warm-up/b")).DELETE().build(),
                    get(base, "/v1/status"),
                    get(base, "/v1/members"),
                    get(base, "/q/health/live"),
                    get(base, "/q/metrics"));
            for (HttpRequest r : requests) {
                HttpResponse<String> answer = http.send(r, HttpResponse.BodyHandlers.ofString());
                if (answer.statusCode() / 100 != 2) {
                    throw new IllegalStateException(r.method() + " " + r.uri().getPath() + " answered "
                            + answer.statusCode() + ": " + answer.body());
                }
            }
            System.out.println("raftkv warm-up: " + requests.size() + " requests served");
        } catch (Exception e) {
            System.err.println("raftkv warm-up failed: " + e.getMessage());
            status = 1;
        }
        Quarkus.asyncExit(status);
    }

    private static HttpRequest get(URI base, String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(10)).GET().build();
    }

    private static boolean ok(HttpClient http, HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
