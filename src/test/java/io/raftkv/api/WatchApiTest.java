package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.raftkv.cli.SseReader;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * GET /v1/watch on a single node: events in log order with exactly the writes that took effect, values or not,
 * resuming with Last-Event-ID (from the ring and from the log), 410 after compaction, progress events, a slow watcher
 * cut off without holding writes up, and bad input.
 */
@QuarkusTest
@TestProfile(WatchApiTest.Profile.class)
class WatchApiTest extends SingleNodeApiTest {

    /** A small ring (so resuming reads the log), small watcher queues, no log kept behind a snapshot. */
    public static class Profile extends NodeProfile {
        public Profile() {
            super("watch", Map.of("raftkv.watch-history-events", "5", "raftkv.watch-buffer-events", "8",
                    "raftkv.snapshot-log-margin", "0", "raftkv.watch-progress-interval", "200ms"));
        }
    }

    private String p;

    @BeforeEach
    void prefix() {
        p = "w-" + UUID.randomUUID() + "/";
    }

    private long put(String key, String value) {
        return given().body(value).put("/v1/kv/" + key).then().statusCode(200).extract().jsonPath().getLong("index");
    }

    private static JsonNode data(SseReader.Event e) throws Exception {
        return JSON.readTree(e.data());
    }

    /** put/delete events as "type key value@index" lines. */
    private static List<String> lines(List<SseReader.Event> events) throws Exception {
        List<String> out = new ArrayList<>();
        for (SseReader.Event e : events) {
            JsonNode d = data(e);
            assertEquals(e.name(), d.get("type").asText());
            assertEquals(e.id(), d.get("index").asText(), "the SSE id is the log index");
            out.add(e.name() + " " + d.get("key").asText() + (d.has("value") ? " " + d.get("value").asText() : "")
                    + " v" + d.get("version").asLong());
        }
        return out;
    }

    @Test
    void exactlyTheWritesThatTookEffectInLogOrder() throws Exception {
        try (SseTestClient w = SseTestClient.open(BASE + "/v1/watch?prefix=" + p, Map.of())) {
            assertEquals(200, w.response.statusCode());
            assertTrue(w.response.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
            SseReader.Event opening = w.next(WAIT);
            assertEquals("progress", opening.name(), "a stream opens with where it starts");
            long a1 = put(p + "a", "1");
            assertTrue(Long.parseLong(opening.id()) < a1, opening.id() + " before " + a1);
            long b = put(p + "b", "2");
            given().body("x").put("/v1/kv/" + p + "a?ifVersion=999").then().statusCode(409); // no event
            given().delete("/v1/kv/" + p + "absent").then().statusCode(200);                   // nothing deleted: no event
            put("other-" + p, "not under the prefix");
            long s = given().header("Raftkv-Client-Id", "watch-" + p.substring(2, 10)).header("Raftkv-Request-Seq", "1")
                    .body("once").put("/v1/kv/" + p + "s").then().statusCode(200).extract().jsonPath().getLong("index");
            given().header("Raftkv-Client-Id", "watch-" + p.substring(2, 10)).header("Raftkv-Request-Seq", "1")
                    .body("once").put("/v1/kv/" + p + "s").then().statusCode(200).header("Raftkv-Duplicate", "true");
            long d = given().delete("/v1/kv/" + p + "a").then().statusCode(200).extract().jsonPath().getLong("index");
            long a2 = put(p + "a", "3");
            List<SseReader.Event> got = w.take(5, SseTestClient::change, WAIT);
            assertEquals(List.of("put " + p + "a 1 v" + a1, "put " + p + "b 2 v" + b, "put " + p + "s once v" + s,
                    "delete " + p + "a v0", "put " + p + "a 3 v" + a2), lines(got));
            assertEquals(String.valueOf(d), got.get(3).id());
            Thread.sleep(300); // nothing else may follow (a duplicate or a failed write emitting late)
            assertTrue(w.drain().stream().noneMatch(SseTestClient::change));
        }
    }

    @Test
    void resumesAfterLastEventIdFromTheRingAndFromTheLog() throws Exception {
        List<Long> idx = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            idx.add(put(p + "k" + i, "v" + i));
        }
        // The ring holds 5 events: starting at the 3rd reads the log first, then the ring, then live events.
        try (SseTestClient w = SseTestClient.open(BASE + "/v1/watch?prefix=" + p,
                Map.of("Last-Event-ID", String.valueOf(idx.get(1))))) {
            List<SseReader.Event> got = w.take(10, SseTestClient::change, WAIT);
            for (int i = 0; i < 10; i++) {
                assertEquals(String.valueOf(idx.get(i + 2)), got.get(i).id());
                assertEquals("v" + (i + 2), data(got.get(i)).get("value").asText());
            }
            long live = put(p + "live", "after");
            assertEquals(String.valueOf(live), w.take(1, SseTestClient::change, WAIT).get(0).id());
        }
        try (SseTestClient w = SseTestClient.open(BASE + "/v1/watch?values=false&prefix=" + p + "&fromIndex=" + idx.get(11), Map.of())) {
            JsonNode d = data(w.take(1, SseTestClient::change, WAIT).get(0));
            assertEquals(p + "k11", d.get("key").asText());
            assertFalse(d.has("value"), "values=false leaves values out");
        }
    }

    @Test
    void anIdleWatchReportsProgressToResumeAfter() throws Exception {
        long before = put(p + "x", "1");
        try (SseTestClient w = SseTestClient.open(BASE + "/v1/watch?prefix=" + p + "quiet/", Map.of())) {
            SseReader.Event opening = w.next(WAIT);
            assertEquals("progress", opening.name());
            assertTrue(Long.parseLong(opening.id()) >= before, opening.id());
            long y = put(p + "y", "2");
            // No event of its prefix comes, but a later progress event covers the write.
            SseReader.Event e = w.take(1, ev -> ev.name().equals("progress") && Long.parseLong(ev.id()) >= y, WAIT).get(0);
            assertEquals("{\"index\":" + e.id() + "}", e.data());
        }
    }

    @Test
    void anIndexCompactedAwayAnswers410WithWhereToGoOn() throws Exception {
        long first = put(p + "old", "1");
        for (int i = 0; i < 8; i++) {
            put(p + "n" + i, "v"); // pushes "old" out of the 5-event ring
        }
        given().post("/v1/snapshot").then().statusCode(200);
        Response r = given().header("Accept", "text/event-stream").queryParam("fromIndex", first).get("/v1/watch");
        assertEquals(410, r.statusCode(), r.asString());
        assertEquals(Problem.MEDIA_TYPE, r.contentType());
        long firstIndex = r.jsonPath().getLong("firstIndex");
        long current = r.jsonPath().getLong("currentIndex");
        assertTrue(firstIndex > first && current >= firstIndex - 1, r.asString());
        assertEquals(current + 1, r.jsonPath().getLong("relistThenWatchFrom"));
        // From where it says, the watch works.
        try (SseTestClient w = SseTestClient.open(BASE + "/v1/watch?prefix=" + p + "&fromIndex=" + firstIndex, Map.of())) {
            assertEquals(200, w.response.statusCode());
        }
    }

    @Test
    void aSlowWatcherIsCutOffAndWritesGoOn() throws Exception {
        String big = "x".repeat(64 * 1024);
        long base = System.nanoTime();
        for (int i = 0; i < 100; i++) { // the same writes with no watcher, for comparison
            put(p + "base" + i, big);
        }
        long baseMs = (System.nanoTime() - base) / 1_000_000;
        try (SseTestClient slow = SseTestClient.open(BASE + "/v1/watch?prefix=" + p, Map.of(), false)) {
            long started = System.nanoTime();
            for (int i = 0; i < 300; i++) { // ~19 MiB of events: more than the socket buffers take
                put(p + "big" + i, big);
            }
            long writesMs = (System.nanoTime() - started) / 1_000_000;
            slow.startReading();
            List<SseReader.Event> seen = new ArrayList<>();
            SseReader.Event e;
            do {
                e = slow.next(WAIT);
                seen.add(e);
            } while (!e.name().equals("cut-off") && e != SseTestClient.END);
            assertEquals("cut-off", e.name(), "the slow watcher's stream ends with cut-off");
            JsonNode d = data(e);
            assertEquals("slow", d.get("reason").asText());
            List<SseReader.Event> changes = seen.stream().filter(SseTestClient::change).toList();
            assertTrue(changes.size() < 300, changes.size() + " events were sent before the cut-off");
            assertEquals(Long.parseLong(changes.get(changes.size() - 1).id()) + 1, d.get("resumeFrom").asLong(),
                    "resume right after the last event received");
            assertEquals(SseTestClient.END, slow.next(WAIT), "the connection is closed after cut-off");
            System.out.println("slow watcher: 100 writes of 64 KiB with no watcher took " + baseMs + " ms, 300 with a"
                    + " watcher that reads nothing " + writesMs + " ms; cut off after " + changes.size() + " events");
        }
    }

    @Test
    void badInputIsAProblem() {
        given().queryParam("fromIndex", "-1").get("/v1/watch").then().statusCode(400)
                .contentType(Problem.MEDIA_TYPE).body("detail", equalTo("fromIndex must be a log index (an integer of at least 0), not '-1'"));
        given().queryParam("values", "maybe").get("/v1/watch").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        given().header("Last-Event-ID", "abc").get("/v1/watch").then().statusCode(400).contentType(Problem.MEDIA_TYPE);
        given().queryParam("prefix", "k".repeat(2000)).get("/v1/watch").then().statusCode(400);
        given().post("/v1/watch").then().statusCode(405);
    }
}
