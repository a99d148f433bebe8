package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.raftkv.it.Waits;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The client API over HTTPS (Quarkus's TLS registry, PKCS12 files made by keytool): bearer tokens and client
 * certificates from the configured CA mapped by CN or SAN, a certificate of another CA refused at the handshake, and
 * the client API refused over the plain port while probes and peer RPC stay there.
 */
@QuarkusTest
@TestProfile(ClientTlsApiTest.Profile.class)
class ClientTlsApiTest {

    static final Path DIR = Path.of("target/test-data/client-tls-" + System.nanoTime()).toAbsolutePath();
    static final String TOKEN = "tls-admin-token-0123456789";
    static final String HTTPS = "https://localhost:8444";

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                TestCerts ca = TestCerts.ca(DIR, "test-ca");
                Path server = ca.issue("server", "localhost", "dns:localhost,ip:127.0.0.1");
                ca.issue("billing", "billing-client", null);
                ca.issue("by-san", "some-host", "dns:svc.example.test");
                ca.issue("nobody", "nobody", null);
                TestCerts.ca(DIR, "other-ca").issue("stranger", "billing-client", null);
                Files.writeString(DIR.resolve("tokens"), """
                        %s ops admin read:* write:*
                        client-cert billing-client read:billing/ write:billing/
                        client-cert svc.example.test read:svc/
                        """.formatted(TOKEN));
                return Map.of("raftkv.data-dir", DIR.resolve("data").toString(),
                        "raftkv.auth.tokens-file", DIR.resolve("tokens").toString(),
                        "quarkus.tls.key-store.p12.path", server.toString(),
                        "quarkus.tls.key-store.p12.password", TestCerts.PASSWORD,
                        "quarkus.tls.trust-store.p12.path", ca.trustStore().toString(),
                        "quarkus.tls.trust-store.p12.password", TestCerts.PASSWORD,
                        "quarkus.http.ssl.client-auth", "request",
                        "raftkv.auth.metrics-open", "false",
                        // what the cluster view trusts when it asks the members (this node too) over HTTPS
                        "raftkv.join-cacert", DIR.resolve("test-ca.crt").toString());
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static HttpClient client(String keyStore) throws Exception {
        SSLContext ctx = TestCerts.context(keyStore == null ? null : DIR.resolve(keyStore + ".p12"),
                DIR.resolve("test-ca-trust.p12"));
        return HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static HttpResponse<String> send(HttpClient c, String method, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(HTTPS + path)).timeout(Duration.ofSeconds(10))
                .method(method, method.equals("PUT") ? HttpRequest.BodyPublishers.ofString("v") : HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void tokensAndClientCertificatesOverHttps() throws Exception {
        HttpClient anonymous = client(null);
        Waits.await("a leader", Duration.ofSeconds(20), () -> {
            try {
                return Optional.of(true).filter(x -> sendQuietly(anonymous, "/v1/status").contains("\"role\":\"leader\""));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        });
        // a token over HTTPS, no client certificate
        assertEquals(200, send(anonymous, "PUT", "/v1/kv/billing/a", TOKEN).statusCode());
        HttpResponse<String> none = send(anonymous, "GET", "/v1/kv/billing/a", null);
        assertEquals(401, none.statusCode(), none.body());
        assertTrue(none.body().contains("or a client certificate"), none.body());

        // a client certificate whose CN names a principal
        HttpClient billing = client("billing");
        assertEquals(200, send(billing, "GET", "/v1/kv/billing/a", null).statusCode());
        assertEquals(200, send(billing, "PUT", "/v1/kv/billing/b", null).statusCode());
        HttpResponse<String> denied = send(billing, "GET", "/v1/kv/svc/a", null);
        assertEquals(403, denied.statusCode(), denied.body());
        assertTrue(denied.body().contains("billing-client"), denied.body());
        assertEquals(403, send(billing, "POST", "/v1/snapshot", null).statusCode());
        // a token wins over the certificate
        assertEquals(200, send(billing, "POST", "/v1/snapshot", TOKEN).statusCode());

        // ... whose DNS SAN names one
        HttpClient bySan = client("by-san");
        assertEquals(404, send(bySan, "GET", "/v1/kv/svc/a", null).statusCode(), "allowed, and absent");
        assertEquals(403, send(bySan, "GET", "/v1/kv/billing/a", null).statusCode());

        // ... from the right CA but naming nobody in the tokens file
        HttpResponse<String> nobody = send(client("nobody"), "GET", "/v1/kv/billing/a", null);
        assertEquals(401, nobody.statusCode(), nobody.body());
        assertTrue(nobody.body().contains("names no principal"), nobody.body());

        // ... from another CA, with a CN that would map: not authenticated (with client-auth=request the TLS layer
        // does not verify it, so it counts as no certificate; client-auth=required fails the handshake instead)
        HttpResponse<String> stranger = send(client("stranger"), "GET", "/v1/kv/billing/a", null);
        assertEquals(401, stranger.statusCode(), stranger.body());
        assertTrue(stranger.body().contains("credentials are required"), stranger.body());
    }

    @Test
    void theClusterViewAsksTheMembersOverHttps() throws Exception {
        HttpClient c = client(null);
        Waits.await("a leader", Duration.ofSeconds(20), () -> Optional.of(true)
                .filter(x -> sendQuietly(c, "/v1/status").contains("\"role\":\"leader\"")));
        HttpResponse<java.io.InputStream> r = c.send(HttpRequest.newBuilder(URI.create(HTTPS + "/v1/cluster/stream"))
                .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (io.raftkv.cli.SseReader events = new io.raftkv.cli.SseReader(r.body())) {
            assertEquals(200, r.statusCode());
            var view = new com.fasterxml.jackson.databind.ObjectMapper().readTree(events.next().data());
            var member = view.path("members").get(0);
            assertEquals("leader", member.path("role").asText(), "asked at its HTTPS URL with the token: " + view);
            assertTrue(member.path("events").size() > 0, view.toString());
        }
        given().get("/v1/cluster/stream").then().statusCode(403).body("detail", containsString("HTTPS only"));
    }

    @Test
    void thePlainPortKeepsProbesButNotTheClientApi() {
        given().get("/v1/status").then().statusCode(403).contentType("application/problem+json")
                .body("detail", containsString("HTTPS only, on port 8444"));
        given().header("Authorization", "Bearer " + TOKEN).body("v").put("/v1/kv/x").then().statusCode(403);
        given().get("/q/health/live").then().statusCode(200);
        // raftkv.auth.metrics-open=false: metrics need credentials (any principal), on either port
        given().get("/q/metrics").then().statusCode(401);
        given().header("Authorization", "Bearer " + TOKEN).get("/q/metrics").then().statusCode(200)
                .body(containsString("raftkv_term"));
    }

    private static String sendQuietly(HttpClient c, String path) {
        try {
            return send(c, "GET", path, TOKEN).body();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
