package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
        assertTrue(all.get("entries").size() <= 100);
        assertEquals(all.get("firstIndex").asLong(), all.get("from").asLong(), "from defaults to the first index");
        JsonNode page = get("/v1/log?from=1&limit=2");
        assertTrue(page.get("entries").size() <= 2);
        JsonNode past = get("/v1/log?from=" + (page.get("lastIndex").asLong() + 1000));
        assertEquals(0, past.get("entries").size());
        assertEquals(false, past.get("more").asBoolean());
        assertTrue(get("/v1/log?from=1&limit=1000").get("entries").size() <= LogResource.MAX_LIMIT);
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
        List<JsonNode> apiEntries = new ArrayList<>();
        api.get("entries").forEach(apiEntries::add);
        List<JsonNode> dumpEntries = new ArrayList<>();
        dump.get("log").get("entries").forEach(e -> {
            if (e.get("index").asLong() <= last) {
                dumpEntries.add(e);
            }
        });
        apiEntries.removeIf(e -> e.get("index").asLong() > last);
        assertEquals(apiEntries, dumpEntries, "the same entries, decoded the same way");
        assertTrue(apiEntries.size() >= 3);
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
