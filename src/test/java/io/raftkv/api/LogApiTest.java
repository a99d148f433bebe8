package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.raftkv.inspect.DumpCommand;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** GET /v1/log on a single-node cluster: the decoded entries, bounds, bad parameters, and agreement with the dump. */
@QuarkusTest
class LogApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private String prefix;

    @BeforeEach
    void waitForLeader() throws InterruptedException {
        prefix = "log-" + UUID.randomUUID().toString().substring(0, 8) + "/";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            Response r = given().get("/v1/status");
            if (r.statusCode() == 200 && "leader".equals(r.jsonPath().getString("role"))) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the single test node never became leader");
    }

    private long put(String key, String value, String query) {
        return given().body(value).put("/v1/kv/" + key + query).then().extract().jsonPath().getLong("index");
    }

    @Test
    void theLogShowsEachWriteDecoded() {
        long i1 = put(prefix + "a", "hello", "");
        long i2 = put(prefix + "a", "again", "?ifVersion=" + i1);
        long i3 = given().delete("/v1/kv/" + prefix + "a").then().statusCode(200).extract().jsonPath().getLong("index");
        JsonNode log = get("/v1/log?from=" + i1 + "&limit=3");
        assertEquals("node1", log.get("node").asText());
        assertEquals(i1, log.get("from").asLong());
        JsonNode e = log.get("entries");
        assertEquals(3, e.size());
        assertEquals("PUT " + prefix + "a (5 bytes: \"hello\")", e.get(0).get("text").asText());
        assertEquals("PUT " + prefix + "a (5 bytes: \"again\") if version = " + i1, e.get(1).get("text").asText());
        assertEquals(i2, e.get(1).get("index").asLong());
        assertEquals(i1, e.get(1).get("ifVersion").asLong());
        assertEquals("DELETE " + prefix + "a", e.get(2).get("text").asText());
        assertEquals(i3, e.get(2).get("index").asLong());
        assertEquals("COMMAND", e.get(2).get("type").asText());
        assertTrue(log.get("term").asLong() >= 1);
        assertTrue(log.get("commitIndex").asLong() >= i3 - 1, log.toString());
        assertEquals(i3 + 1, log.get("next").asLong());
        assertTrue(log.get("firstIndex").asLong() >= 1);
        assertTrue(log.has("snapshot") && log.get("snapshot").has("index") && log.get("snapshot").has("term"));
    }

    @Test
    void theLogIsPagedAndBounded() {
        for (int i = 0; i < 5; i++) {
            put(prefix + "k" + i, "v" + i, "");
        }
        JsonNode all = get("/v1/log");
        assertTrue(all.get("entries").size() <= LogResource.DEFAULT_LIMIT);
        assertEquals(all.get("firstIndex").asLong(), all.get("from").asLong(), "from defaults to the first index");
        JsonNode page = get("/v1/log?from=1&limit=2");
        assertEquals(2, page.get("entries").size());
        assertEquals(1, page.get("entries").get(0).get("index").asLong());
        assertEquals(3, page.get("next").asLong());
        assertTrue(page.get("more").asBoolean());
        // following next to the end visits every index once
        long expect = page.get("firstIndex").asLong();
        long next = expect;
        long last = page.get("lastIndex").asLong();
        while (true) {
            JsonNode p = get("/v1/log?from=" + next + "&limit=" + LogResource.MAX_LIMIT);
            for (JsonNode e : p.get("entries")) {
                assertEquals(expect++, e.get("index").asLong());
            }
            next = p.get("next").asLong();
            if (!p.get("more").asBoolean()) {
                break;
            }
        }
        assertTrue(expect > last, "paged through to " + (expect - 1) + ", the log held " + last);
        JsonNode past = get("/v1/log?from=" + (expect + 1000));
        assertEquals(0, past.get("entries").size());
        assertFalse(past.get("more").asBoolean());
    }

    @Test
    void aPageHoldsAtMostAboutEightMebibytesOfEntries() {
        byte[] big = new byte[1 << 20];
        java.util.Arrays.fill(big, (byte) 'b');
        long first = 0;
        for (int i = 0; i < 10; i++) {
            long index = given().contentType("application/octet-stream").body(big).put("/v1/kv/" + prefix + "big" + i)
                    .then().statusCode(200).extract().jsonPath().getLong("index");
            first = first == 0 ? index : first;
        }
        JsonNode page = get("/v1/log?from=" + first + "&limit=100");
        int n = page.get("entries").size();
        assertTrue(n >= 7 && n <= 9, n + " entries of 1 MiB in one page");
        assertTrue(page.get("more").asBoolean());
        assertEquals(first + n, page.get("next").asLong());
        JsonNode e = page.get("entries").get(0);
        assertEquals(1 << 20, e.get("valueBytes").asInt());
        assertEquals("b".repeat(32), e.get("value").asText());
    }

    @Test
    void badParametersAnswer400WithAProblem() {
        for (String q : new String[] {"from=0", "from=-1", "from=x", "limit=0", "limit=1001", "limit=abc", "from=1.5"}) {
            given().get("/v1/log?" + q).then().statusCode(400).contentType(Problem.MEDIA_TYPE)
                    .body("status", equalTo(400)).body("title", equalTo("Bad Request"))
                    .body("detail", containsString(q.substring(0, q.indexOf('='))));
        }
    }

    @Test
    void theEndpointAgreesWithTheOfflineDumpOfTheSameNode() throws Exception {
        put(prefix + "x", "one", "");
        put(prefix + "y", "two", "?ifVersion=0");
        long last = given().delete("/v1/kv/" + prefix + "x").then().statusCode(200).extract().jsonPath().getLong("index");
        String dataDir = given().get("/v1/status").jsonPath().getString("dataDir");
        JsonNode api = get("/v1/log?from=" + Math.max(1, last - 50) + "&limit=1000");

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = DumpCommand.run(new String[] {"--format", "json", "--only", "storage,log", "--from",
                api.get("from").asText(), dataDir}, out, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(DumpCommand.OK, status, err.toString(StandardCharsets.UTF_8));
        JsonNode dump = JSON.readTree(out.toByteArray());
        // the page may stop early at its byte bound (other tests write 1 MiB values): compare what it holds
        long end = Math.min(last, api.get("next").asLong() - 1);
        List<JsonNode> apiEntries = new ArrayList<>();
        api.get("entries").forEach(apiEntries::add);
        apiEntries.removeIf(e -> e.get("index").asLong() > end);
        List<JsonNode> dumpEntries = new ArrayList<>();
        dump.get("log").get("entries").forEach(e -> {
            if (e.get("index").asLong() <= end) {
                dumpEntries.add(e);
            }
        });
        assertEquals(apiEntries.size(), dumpEntries.size(), "entries " + api.get("from") + ".." + end);
        for (int i = 0; i < apiEntries.size(); i++) {
            assertEquals(apiEntries.get(i), dumpEntries.get(i), "the same entry, decoded the same way");
        }
        assertTrue(apiEntries.size() >= 1);
        // and the newest writes of this test, on a page of their own
        JsonNode tail = get("/v1/log?from=" + (last - 2) + "&limit=3");
        for (JsonNode e : tail.get("entries")) {
            assertEquals(e, dump.get("log").get("entries").get((int) (e.get("index").asLong() - api.get("from").asLong())));
        }
        assertEquals(3, tail.get("entries").size());
        assertEquals(api.get("firstIndex").asLong(), dump.get("storage").get("firstIndex").asLong());
        assertEquals(api.get("term").asLong(), dump.get("storage").get("term").asLong());
        assertEquals(api.get("votedFor").asText(), dump.get("storage").get("votedFor").asText());
    }

    private static JsonNode get(String path) {
        try {
            return JSON.readTree(given().get(path).then().statusCode(200).extract().asByteArray());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
