package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.raftkv.it.Waits;
import io.restassured.specification.RequestSpecification;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/** Authentication and authorization with a tokens file: 401, 403 and 200 per role and prefix, and reloading. */
@QuarkusTest
@TestProfile(AuthApiTest.Profile.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuthApiTest {

    static final Path DIR = Path.of("target/test-data/auth-" + System.nanoTime());
    static final Path TOKENS = DIR.resolve("tokens");
    static final String ADMIN = "admin-token-0123456789abcdef";
    static final String APP = "app-token-0123456789abcdef";
    static final String READER = "reader-token-0123456789abcdef";
    static final String LATER = "added-later-0123456789abcdef";
    static final String WRITER = "writer-token-0123456789abcdef";

    static final String FILE = """
            # test principals
            %s  ops     admin read:* write:*
            %s  app     read:app/ write:app/config/
            %s  reader  read:*
            %s  writer  write:app/
            """.formatted(ADMIN, APP, READER, WRITER);

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            try {
                Files.createDirectories(DIR);
                Files.writeString(TOKENS, FILE);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return Map.of("raftkv.data-dir", DIR.resolve("data").toString(), "raftkv.auth.tokens-file", TOKENS.toString());
        }
    }

    static RequestSpecification as(String token) {
        return given().header("Authorization", "Bearer " + token);
    }

    static void awaitLeader() throws InterruptedException {
        Waits.await("a leader", Duration.ofSeconds(20), () -> Optional.of(true)
                .filter(x -> "leader".equals(as(ADMIN).get("/v1/status").jsonPath().getString("role"))));
    }

    @Test
    @Order(1)
    void noOrBadCredentialsAre401WithAChallenge() throws Exception {
        awaitLeader();
        given().get("/v1/kv/app/x").then().statusCode(401).contentType("application/problem+json")
                .header("WWW-Authenticate", startsWith("Bearer")).body("status", equalTo(401))
                .body("detail", containsString("credentials are required"));
        given().body("v").put("/v1/kv/app/x").then().statusCode(401);
        given().get("/v1/status").then().statusCode(401);
        as("not-a-token-0123456789abcdef").get("/v1/kv/app/x").then().statusCode(401)
                .header("WWW-Authenticate", containsString("invalid_token"))
                .body("detail", equalTo("the bearer token is not valid"));
        given().header("Authorization", "Basic b3BzOnNlY3JldA==").get("/v1/status").then().statusCode(401)
                .header("WWW-Authenticate", containsString("invalid_request"));
        // probes, metrics (open by default) and the API description need no credentials; any other path does (peers
        // have a listener of their own: nothing under /raft/ here)
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
        given().get("/q/openapi").then().statusCode(200);
        given().body(new byte[0]).post("/raft/messages").then().statusCode(401);
    }

    @Test
    @Order(2)
    void rolesAndPrefixesDecide() throws Exception {
        awaitLeader();
        as(ADMIN).body("one").put("/v1/kv/app/x").then().statusCode(200);
        as(ADMIN).body("two").put("/v1/kv/other/y").then().statusCode(200);

        // app: read app/, write app/config/ only
        as(APP).get("/v1/kv/app/x").then().statusCode(200).body(equalTo("one"));
        as(APP).get("/v1/kv/other/y").then().statusCode(403).contentType("application/problem+json")
                .body("principal", equalTo("app")).body("detail", containsString("read on 'other/y'"));
        as(APP).body("v").put("/v1/kv/app/config/a").then().statusCode(200);
        as(APP).delete("/v1/kv/app/config/a").then().statusCode(200);
        as(APP).body("v").put("/v1/kv/app/x").then().statusCode(403).body("detail", containsString("write on 'app/x'"));
        as(APP).delete("/v1/kv/other/y").then().statusCode(403);
        // a dot segment does not escape the prefix: the path is normalized before it is checked (and served)
        as(APP).body("v").put("/v1/kv/app/config/../../other/y").then().statusCode(403);
        as(APP).get("/v1/kv?prefix=app/").then().statusCode(200).body("keys.key", org.hamcrest.Matchers.hasItem("app/x"));
        as(APP).get("/v1/kv?prefix=o").then().statusCode(403);
        as(APP).get("/v1/kv").then().statusCode(403);
        as(APP).get("/v1/status").then().statusCode(200).body("role", equalTo("leader"));
        as(APP).get("/v1/members").then().statusCode(200);
        as(APP).post("/v1/snapshot").then().statusCode(403).body("detail", containsString("admin"));
        as(APP).get("/v1/log").then().statusCode(403);
        as(APP).post("/v1/leader/transfer").then().statusCode(403);
        as(APP).delete("/v1/members/node1").then().statusCode(403);

        // reader: every key, no writes, no admin
        as(READER).get("/v1/kv/other/y").then().statusCode(200).body(equalTo("two"));
        as(READER).get("/v1/kv").then().statusCode(200);
        as(READER).body("v").put("/v1/kv/other/y").then().statusCode(403);
        as(READER).get("/v1/log").then().statusCode(403);

        // admin
        as(ADMIN).get("/v1/log").then().statusCode(200);
        as(ADMIN).post("/v1/snapshot").then().statusCode(200);
        as(ADMIN).get("/v1/kv/other/y").then().statusCode(200);
    }

    @Test
    @Order(3)
    void theClusterViewNeedsTheReadRoleAndItsPageNothing() throws Exception {
        awaitLeader();
        // the page and its files are open: it asks for a token itself
        given().get("/ui/").then().statusCode(200).body(containsString("ui.js"));
        given().get("/ui/ui.js").then().statusCode(200);
        given().redirects().follow(false).get("/ui").then().statusCode(301);
        // the stream and the event lines: 401 without a token, 403 without a read grant
        given().get("/v1/cluster/stream").then().statusCode(401).header("WWW-Authenticate", startsWith("Bearer"));
        given().get("/v1/events").then().statusCode(401);
        as(WRITER).get("/v1/cluster/stream").then().statusCode(403).contentType("application/problem+json")
                .body("detail", containsString("the read role"));
        as(WRITER).get("/v1/events").then().statusCode(403);
        as(APP).get("/v1/events").then().statusCode(200).body("lines.size()", org.hamcrest.Matchers.greaterThan(0));
        // app (read:app/ only) sees the view, gathered with its own token, and is not offered the transfer
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (SseTestClient c = SseTestClient.open("http://localhost:8081/v1/cluster/stream",
                Map.of("Authorization", "Bearer " + APP))) {
            assertEquals(200, c.response.statusCode());
            var v = json.readTree(c.take(1, e -> e.name().equals("view"), Duration.ofSeconds(10)).get(0).data());
            assertEquals("app", v.path("viewer").path("principal").asText());
            assertEquals(false, v.path("viewer").path("admin").asBoolean());
            assertEquals(true, v.path("viewer").path("auth").asBoolean());
            assertEquals("node1", v.path("leader").asText(), v.toString());
            var m = v.path("members").get(0);
            assertEquals("leader", m.path("role").asText(), "the member answered the forwarded token: " + m);
            assertEquals(true, m.path("events").size() > 0, m.toString());
        }
        try (SseTestClient c = SseTestClient.open("http://localhost:8081/v1/cluster/stream",
                Map.of("Authorization", "Bearer " + ADMIN))) {
            var v = json.readTree(c.take(1, e -> e.name().equals("view"), Duration.ofSeconds(10)).get(0).data());
            assertEquals("ops", v.path("viewer").path("principal").asText());
            assertEquals(true, v.path("viewer").path("admin").asBoolean());
        }
        // the transfer the page sends (with Raftkv-Forward: leader) stays admin-only
        as(APP).header("Raftkv-Forward", "leader").post("/v1/leader/transfer").then().statusCode(403);
    }

    @Test
    @Order(4)
    void aChangedTokensFileIsPickedUpAndABrokenOneKeepsThePreviousSet() throws Exception {
        awaitLeader();
        as(LATER).get("/v1/kv/app/x").then().statusCode(401);
        // swapped in as Kubernetes does (a new file moved into place): APP loses its token, LATER appears
        replace(FILE.replace(APP + "  app", LATER + "  later") + "\n");
        Waits.await("the new token to be accepted", Duration.ofSeconds(10), 50,
                () -> Optional.of(true).filter(x -> as(LATER).get("/v1/kv/app/x").statusCode() == 200));
        as(APP).get("/v1/kv/app/x").then().statusCode(401);
        as(LATER).body("v").put("/v1/kv/app/config/b").then().statusCode(200);

        // a broken file (an unknown grant) keeps the set in force: LATER still works, nobody new gets in
        replace(FILE + "broken-token-0123456789abcdef  x  delete:everything\n");
        Waits.await("the broken file to be refused", Duration.ofSeconds(10), 50,
                () -> Optional.ofNullable(io.quarkus.arc.Arc.container().instance(io.raftkv.auth.Authenticator.class)
                        .get().error()));
        as(LATER).get("/v1/kv/app/x").then().statusCode(200);
        as(APP).get("/v1/kv/app/x").then().statusCode(401);
        // fixed again: the file's own set is back
        replace(FILE);
        Waits.await("the fixed file to be taken", Duration.ofSeconds(10), 50,
                () -> Optional.of(true).filter(x -> as(APP).get("/v1/kv/app/x").statusCode() == 200));
        assertEquals(401, as(LATER).get("/v1/kv/app/x").statusCode());
    }

    private static void replace(String text) throws IOException {
        Path tmp = DIR.resolve("tokens.new");
        Files.writeString(tmp, text);
        Files.move(tmp, TOKENS, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
