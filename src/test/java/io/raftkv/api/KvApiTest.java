package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.UUID;

/** The client API on a single-node cluster (it elects itself): happy paths, conditions, limits and bad input. */
@QuarkusTest
class KvApiTest {

    private String prefix;

    @BeforeEach
    void waitForLeader() throws InterruptedException {
        prefix = "t-" + UUID.randomUUID() + "/";
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

    @Test
    void putThenGetReturnsTheValueWithItsVersion() {
        String key = prefix + "a";
        int index = given().body("hello").put("/v1/kv/" + key)
                .then().statusCode(200).contentType(ContentType.JSON)
                .body("key", equalTo(key)).body("index", greaterThan(0)).body("term", greaterThan(0))
                .extract().path("version");
        given().get("/v1/kv/" + key)
                .then().statusCode(200).body(equalTo("hello")).header(KvResource.VERSION_HEADER, String.valueOf(index));
        given().queryParam("consistency", "stale").get("/v1/kv/" + key).then().statusCode(200).body(equalTo("hello"));
    }

    @Test
    void binaryValuesRoundTripExactly() {
        byte[] value = new byte[70_000];
        new Random(7).nextBytes(value);
        given().contentType("application/octet-stream").body(value).put("/v1/kv/" + prefix + "bin").then().statusCode(200);
        byte[] back = given().get("/v1/kv/" + prefix + "bin").then().statusCode(200).extract().asByteArray();
        assertArrayEquals(value, back);
    }

    @Test
    void keysMayContainSlashesAndUnicode() {
        String key = prefix + "dir/sub/ключ";
        given().body("v").put("/v1/kv/" + key).then().statusCode(200).body("key", equalTo(key));
        given().get("/v1/kv/" + key).then().statusCode(200).body(equalTo("v"));
    }

    @Test
    void missingKeyIs404Problem() {
        given().get("/v1/kv/" + prefix + "nope").then().statusCode(404)
                .contentType("application/problem+json").body("status", equalTo(404)).body("title", equalTo("Not Found"));
    }

    @Test
    void deleteRemovesTheKey() {
        String key = prefix + "d";
        given().body("x").put("/v1/kv/" + key).then().statusCode(200);
        given().delete("/v1/kv/" + key).then().statusCode(200).body("deleted", equalTo(true));
        given().get("/v1/kv/" + key).then().statusCode(404);
        given().delete("/v1/kv/" + key).then().statusCode(200).body("deleted", equalTo(false));
    }

    @Test
    void compareAndSetByVersionAndByValue() {
        String key = prefix + "cas";
        // ifVersion=0: create only if absent
        int v1 = given().body("one").queryParam("ifVersion", 0).put("/v1/kv/" + key).then().statusCode(200).extract().path("version");
        given().body("again").queryParam("ifVersion", 0).put("/v1/kv/" + key)
                .then().statusCode(409).contentType("application/problem+json").body("currentVersion", equalTo(v1));
        int v2 = given().body("two").queryParam("ifVersion", v1).put("/v1/kv/" + key).then().statusCode(200).extract().path("version");
        given().body("stale").queryParam("ifVersion", v1).put("/v1/kv/" + key).then().statusCode(409);
        given().body("three").queryParam("ifValue", "two").put("/v1/kv/" + key).then().statusCode(200);
        given().body("four").queryParam("ifValue", "two").put("/v1/kv/" + key).then().statusCode(409);
        given().queryParam("ifVersion", v2).delete("/v1/kv/" + key).then().statusCode(409);
        given().get("/v1/kv/" + key).then().statusCode(200).body(equalTo("three"));
    }

    @Test
    void listByPrefixIsOrderedAndLimited() {
        for (String k : new String[] {"c", "a", "b"}) {
            given().body(k).put("/v1/kv/" + prefix + "list/" + k).then().statusCode(200);
        }
        given().body("other").put("/v1/kv/" + prefix + "other").then().statusCode(200);
        given().queryParam("prefix", prefix + "list/").get("/v1/kv")
                .then().statusCode(200).body("keys", hasSize(3)).body("keys[0].key", equalTo(prefix + "list/a"))
                .body("keys[2].key", equalTo(prefix + "list/c")).body("more", equalTo(false));
        given().queryParam("prefix", prefix + "list/").queryParam("limit", 2).get("/v1/kv")
                .then().statusCode(200).body("keys", hasSize(2)).body("more", equalTo(true));
    }

    @Test
    void tooLongKeyIs400() {
        String key = "k".repeat(1025);
        given().body("v").put("/v1/kv/" + key).then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("1025"));
    }

    @Test
    void tooLargeValueIs413AndNothingIsWritten() {
        byte[] big = new byte[1024 * 1024 + 1];
        given().contentType("application/octet-stream").body(big).put("/v1/kv/" + prefix + "big")
                .then().statusCode(413).contentType("application/problem+json");
        given().get("/v1/kv/" + prefix + "big").then().statusCode(404);
    }

    @Test
    void badParametersAre400() {
        given().body("v").queryParam("ifVersion", "abc").put("/v1/kv/" + prefix + "p").then().statusCode(400)
                .contentType("application/problem+json");
        given().body("v").queryParam("ifVersion", "-1").put("/v1/kv/" + prefix + "p").then().statusCode(400);
        given().body("v").queryParam("ifVersion", 1).queryParam("ifValue", "x").put("/v1/kv/" + prefix + "p").then().statusCode(400);
        given().queryParam("consistency", "eventual").get("/v1/kv/" + prefix + "p").then().statusCode(400);
        given().queryParam("limit", 0).get("/v1/kv").then().statusCode(400);
        given().queryParam("limit", "many").get("/v1/kv").then().statusCode(400);
        given().get("/v1/kv/" + prefix + "p").then().statusCode(404); // nothing was written
    }

    @Test
    void unknownPathsAndMethodsAreProblems() {
        given().get("/v1/nothing-here").then().statusCode(404).contentType("application/problem+json");
        given().post("/v1/kv/" + prefix + "x").then().statusCode(405).contentType("application/problem+json");
    }

    @Test
    void statusReportsTheLeaderAndIndexes() {
        given().body("s").put("/v1/kv/" + prefix + "s").then().statusCode(200);
        Response r = given().get("/v1/status");
        r.then().statusCode(200).body("id", equalTo("node1")).body("role", equalTo("leader"))
                .body("leader", equalTo("node1")).body("term", greaterThan(0)).body("commitIndex", greaterThan(0))
                .body("firstIndex", equalTo(1)).body("lastIndex", notNullValue()).body("members.node1", notNullValue());
        assertEquals(r.jsonPath().getLong("commitIndex"), r.jsonPath().getLong("lastApplied"));
    }

    @Test
    void theClientPortHasNoPeerEndpoints() {
        // Peers talk on their own listener (raftkv.peer-port); the client port knows nothing of /raft/*.
        given().header("X-Raftkv-From", "node1").contentType("application/octet-stream").body(new byte[] {1, 2, 3})
                .post("/raft/messages").then().statusCode(404);
        given().contentType("application/octet-stream").body(new byte[] {1, 2, 3}).post("/raft/snapshot").then().statusCode(404);
        given().get("/v1/status").then().statusCode(200).body("role", equalTo("leader")).body("peer.port", equalTo(9081));
    }

    @Test
    void healthEndpointsAreUp() {
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200).body("checks[0].data.leader", equalTo("node1"));
        given().get("/q/metrics").then().statusCode(200).body(containsString("raftkv_term"));
    }

    private static double metric(String exposition, String name) {
        return exposition.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError(name + " not exported"));
    }

    @Test
    void metricsWorthAlertingOnAreExportedAndMove() {
        double committedBefore = metric(given().get("/q/metrics").then().extract().asString(), "raftkv_server_proposals_committed_total");
        given().body("m").put("/v1/kv/" + prefix + "metric").then().statusCode(200);
        String m = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertTrue(metric(m, "raftkv_server_proposals_committed_total") > committedBefore, "a write raises the committed counter");
        for (String name : new String[] {"raftkv_server_has_leader 1.0", "raftkv_server_is_leader 1.0",
                "raftkv_disk_wal_fsync_duration_seconds_bucket", "raftkv_disk_wal_fsync_duration_seconds_count",
                "raftkv_apply_duration_seconds_count", "raftkv_disk_backend_commit_duration_seconds_count",
                "raftkv_proposals_total{outcome=\"ok\"", "raftkv_server_leader_changes_seen_total",
                "raftkv_server_proposals_pending", "raftkv_server_proposals_committed_total",
                "raftkv_server_proposals_applied_total", "raftkv_server_proposals_failed_total",
                "raftkv_log_written_entry_bytes_total", "raftkv_client_sessions"}) {
            assertTrue(m.contains(name), name + " in\n" + m.lines().filter(l -> l.startsWith("raftkv_")).toList());
        }
    }

    @Test
    void leadershipTransferNeedsAnotherMember() {
        given().queryParam("to", "nobody").post("/v1/leader/transfer").then().statusCode(400)
                .contentType("application/problem+json");
        // A single-node cluster has no one to hand over to.
        given().post("/v1/leader/transfer").then().statusCode(409).contentType("application/problem+json");
        given().queryParam("to", "node1").post("/v1/leader/transfer").then().statusCode(409);
        given().get("/v1/status").then().statusCode(200).body("role", equalTo("leader"));
        given().body("still").put("/v1/kv/" + prefix + "after-transfer").then().statusCode(200);
    }

    @Test
    void aRetryWithTheSameSessionHeadersIsAnsweredAsTheFirstAttemptAndNotAppliedTwice() {
        String key = prefix + "once";
        String client = "test-" + UUID.randomUUID();
        Response first = given().header(KvResource.CLIENT_ID_HEADER, client).header(KvResource.REQUEST_SEQ_HEADER, "1")
                .body("first").put("/v1/kv/" + key);
        first.then().statusCode(200);
        given().body("other").put("/v1/kv/" + key).then().statusCode(200);
        Response retry = given().header(KvResource.CLIENT_ID_HEADER, client).header(KvResource.REQUEST_SEQ_HEADER, "1")
                .body("first").put("/v1/kv/" + key);
        retry.then().statusCode(200).header(KvResource.DUPLICATE_HEADER, "true")
                .body("index", equalTo(first.jsonPath().getInt("index")))
                .body("version", equalTo(first.jsonPath().getInt("version")));
        given().get("/v1/kv/" + key).then().statusCode(200).body(equalTo("other"));
        // a conditional write's retry gets the first attempt's answer too, not a 409
        String cas = prefix + "cas";
        given().header(KvResource.CLIENT_ID_HEADER, client).header(KvResource.REQUEST_SEQ_HEADER, "2")
                .queryParam("ifVersion", "0").body("x").put("/v1/kv/" + cas).then().statusCode(200);
        given().header(KvResource.CLIENT_ID_HEADER, client).header(KvResource.REQUEST_SEQ_HEADER, "2")
                .queryParam("ifVersion", "0").body("x").put("/v1/kv/" + cas).then().statusCode(200)
                .header(KvResource.DUPLICATE_HEADER, "true");
        // unknown session beyond its first request: refused, not applied
        given().header(KvResource.CLIENT_ID_HEADER, "never-seen-" + UUID.randomUUID()).header(KvResource.REQUEST_SEQ_HEADER, "7")
                .body("x").put("/v1/kv/" + prefix + "expired").then().statusCode(422).contentType("application/problem+json");
        given().get("/v1/kv/" + prefix + "expired").then().statusCode(404);
        // bad headers
        given().header(KvResource.CLIENT_ID_HEADER, client).body("x").put("/v1/kv/" + key).then().statusCode(400);
        given().header(KvResource.CLIENT_ID_HEADER, "bad id!").header(KvResource.REQUEST_SEQ_HEADER, "1").body("x")
                .put("/v1/kv/" + key).then().statusCode(400);
        given().header(KvResource.CLIENT_ID_HEADER, client).header(KvResource.REQUEST_SEQ_HEADER, "0").body("x")
                .delete("/v1/kv/" + key).then().statusCode(400);
    }
}
