package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.raftkv.cli.SseReader;
import io.raftkv.it.Waits;
import io.raftkv.ui.ClusterStreamResource;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The cluster view on a single node without authentication: the page and its files are served, GET /v1/cluster/stream
 * sends a view event about every second with the member's roles, indexes, lags, snapshot and event lines, a write
 * shows up in the next views, closed connections are let go, and GET /v1/events serves the recent event lines.
 * (With authentication on: AuthApiTest.)
 */
@QuarkusTest
@TestProfile(ClusterStreamApiTest.Profile.class)
class ClusterStreamApiTest extends SingleNodeApiTest {

    public static class Profile extends NodeProfile {
        public Profile() {
            super("cluster-stream", Map.of());
        }
    }

    static JsonNode view(SseReader.Event e) throws Exception {
        assertEquals("view", e.name(), e.toString());
        return JSON.readTree(e.data());
    }

    @Test
    void theStreamSendsTheWholeClusterLive() throws Exception {
        try (SseTestClient c = SseTestClient.open(BASE + "/v1/cluster/stream", Map.of())) {
            assertEquals(200, c.response.statusCode());
            assertTrue(c.response.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream"));
            long t0 = System.nanoTime();
            List<SseReader.Event> first = c.take(2, e -> e.name().equals("view"), WAIT);
            long between = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(between < 5000, "two views within " + between + " ms");
            JsonNode v = view(first.get(1));
            assertEquals("node1", v.path("observer").asText());
            assertEquals("node1", v.path("leader").asText());
            assertTrue(v.path("term").asLong() >= 1, v.toString());
            assertFalse(v.path("viewer").path("auth").asBoolean());
            assertTrue(v.path("viewer").path("admin").asBoolean(), "without authentication anyone may transfer");
            Instant since = Instant.parse(v.path("leaderSince").asText());
            assertTrue(since.isBefore(Instant.now().plusSeconds(1)), v.toString());
            assertTrue(Instant.parse(v.path("at").asText()).isAfter(Instant.now().minusSeconds(30)));
            JsonNode members = v.path("members");
            assertEquals(1, members.size(), v.toString());
            JsonNode m = members.get(0);
            assertEquals("node1", m.path("id").asText());
            assertEquals("voter", m.path("membership").asText());
            assertEquals("leader", m.path("role").asText());
            assertTrue(m.path("reachable").asBoolean());
            for (String f : List.of("term", "commitIndex", "lastApplied", "firstIndex", "lastIndex", "applyLag",
                    "replicationLag", "logBytes", "kvBytes")) {
                assertTrue(m.path(f).isNumber(), f + " in " + m);
            }
            assertEquals(0, m.path("replicationLag").asLong(), "the leader is not behind itself");
            assertTrue(m.path("snapshot").has("index") && m.path("snapshot").has("inProgress"), m.toString());
            assertTrue(m.path("events").isArray() && m.path("events").size() > 0, m.toString());
            boolean elected = false;
            for (JsonNode line : m.path("events")) {
                elected |= line.asText().contains("node1 became leader for term");
            }
            assertTrue(elected, "the leader's event lines say it took office: " + m.path("events"));

            // live: a write shows up in a later view, without reconnecting
            long before = m.path("commitIndex").asLong();
            given().body("x").put("/v1/kv/ui-test/a").then().statusCode(200);
            List<SseReader.Event> later = c.take(1, e -> {
                try {
                    return e.name().equals("view") && view(e).path("members").get(0).path("commitIndex").asLong() > before;
                } catch (Exception ex) {
                    throw new AssertionError(ex);
                }
            }, WAIT);
            assertNotEquals(first.get(1).id(), later.get(0).id(), "each view has an id of its own");
        }
        ClusterStreamResource r = io.quarkus.arc.Arc.container().instance(ClusterStreamResource.class).get();
        Waits.await("the closed connection to be let go", WAIT, 50, () -> Optional.of(true).filter(x -> r.viewers() == 0));
    }

    @Test
    void manyConnectionsShareOneRoundAndEachGetsViews() throws Exception {
        SseTestClient a = SseTestClient.open(BASE + "/v1/cluster/stream", Map.of());
        SseTestClient b = SseTestClient.open(BASE + "/v1/cluster/stream", Map.of());
        try (a; b) {
            a.take(1, e -> e.name().equals("view"), WAIT);
            b.take(1, e -> e.name().equals("view"), WAIT);
            ClusterStreamResource r = io.quarkus.arc.Arc.container().instance(ClusterStreamResource.class).get();
            assertEquals(2, r.viewers());
        }
    }

    @Test
    void eventLinesStatusAndThePage() {
        given().get("/v1/events").then().statusCode(200).body("node", equalTo("node1"))
                .body("lines", hasItem(containsString("became leader for term")));
        given().get("/v1/events?limit=1").then().statusCode(200).body("lines.size()", equalTo(1));
        for (String bad : List.of("0", "201", "x")) {
            given().get("/v1/events?limit=" + bad).then().statusCode(400).contentType("application/problem+json");
        }
        given().get("/v1/status").then().statusCode(200).body("leaderSince", notNullValue());
        given().redirects().follow(false).get("/ui").then().statusCode(301).header("Location", containsString("/ui/"));
        given().get("/ui/").then().statusCode(200).contentType(containsString("text/html"))
                .body(containsString("raftkv"), containsString("ui.js"));
        given().get("/ui/ui.js").then().statusCode(200).body(containsString("/v1/cluster/stream"));
        given().get("/ui/ui.css").then().statusCode(200);
    }
}
