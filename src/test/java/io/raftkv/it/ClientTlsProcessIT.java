package io.raftkv.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.api.TestCerts;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Three node processes serving the client API over HTTPS with tokens: a follower's redirect names the leader's HTTPS
 * URL, and following it with the token writes; no token is a 401 on any node; peers still replicate (over the plain
 * port, until they get a listener of their own).
 */
class ClientTlsProcessIT {

    private static final String TOKEN = "it-admin-token-0123456789";
    private static final Duration WAIT = Duration.ofSeconds(180);

    @Test
    void followersRedirectToTheLeadersHttpsUrl() throws Exception {
        Path root = Path.of("target/it-client-tls/" + System.currentTimeMillis()).toAbsolutePath();
        TestCerts ca = TestCerts.ca(root.resolve("pki"), "it-ca");
        Path server = ca.issue("server", "localhost", "dns:localhost,ip:127.0.0.1");
        Path tokens = root.resolve("tokens");
        Files.writeString(tokens, TOKEN + " ops admin read:* write:*\n");
        HttpClient https = HttpClient.newBuilder().sslContext(TestCerts.context(null, ca.trustStore()))
                .connectTimeout(Duration.ofSeconds(2)).build();
        try (ProcessCluster cluster = new ProcessCluster(root, 3)) {
            cluster.env((id, env) -> {
                env.put("QUARKUS_HTTP_SSL_PORT", Integer.toString(cluster.port(id) + 1));
                env.put("QUARKUS_TLS_KEY_STORE_P12_PATH", server.toString());
                env.put("QUARKUS_TLS_KEY_STORE_P12_PASSWORD", TestCerts.PASSWORD);
                env.put("RAFTKV_AUTH_TOKENS_FILE", tokens.toString());
            });
            cluster.startAll();
            List<String> ids = cluster.ids();
            // A leader every member names (just after start, leadership may still move: wait until it has settled).
            String leader = Waits.await("a leader over HTTPS that every member follows", WAIT, 100, () -> {
                Optional<String> l = ids.stream().filter(id -> send(https, "GET", base(cluster, id) + "/v1/status", TOKEN)
                        .map(r -> r.body().contains("\"role\":\"leader\"")).orElse(false)).findFirst();
                return l.filter(x -> ids.stream().allMatch(id -> send(https, "GET", base(cluster, id) + "/v1/status", TOKEN)
                        .map(r -> r.body().contains("\"leader\":\"" + x + "\"")).orElse(false)));
            });
            String follower = ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();

            HttpResponse<String> anonymous = send(https, "PUT", base(cluster, follower) + "/v1/kv/tls/x", null).orElseThrow();
            assertEquals(401, anonymous.statusCode(), anonymous.body());

            HttpResponse<String> redirect = send(https, "PUT", base(cluster, follower) + "/v1/kv/tls/x?ifVersion=0", TOKEN)
                    .orElseThrow();
            assertEquals(307, redirect.statusCode(), redirect.body());
            String location = redirect.headers().firstValue("Location").orElseThrow();
            assertEquals(base(cluster, leader) + "/v1/kv/tls/x?ifVersion=0", location);
            assertTrue(redirect.body().contains("\"leaderUrl\":\"" + base(cluster, leader) + "\""), redirect.body());

            HttpResponse<String> written = send(https, "PUT", location, TOKEN).orElseThrow();
            assertEquals(200, written.statusCode(), written.body());
            for (String id : ids) {
                Waits.await(id + " applying tls/x", WAIT, () -> send(https, "GET",
                        base(cluster, id) + "/v1/kv/tls/x?consistency=stale", TOKEN).filter(r -> r.statusCode() == 200));
            }
            // the plain port refuses the client API while HTTPS is on
            assertEquals(403, cluster.get(follower, "/v1/status").orElseThrow().statusCode());
        }
    }

    private static String base(ProcessCluster cluster, String id) {
        return "https://127.0.0.1:" + (cluster.port(id) + 1);
    }

    private static Optional<HttpResponse<String>> send(HttpClient c, String method, String url, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).method(method,
                method.equals("PUT") ? HttpRequest.BodyPublishers.ofString("v") : HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return Optional.of(c.send(b.build(), HttpResponse.BodyHandlers.ofString()));
        } catch (java.io.IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
