package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** The membership API on a single-node cluster: list, add a learner, refusals, remove. */
@QuarkusTest
@TestProfile(MembersApiTest.Profile.class)
class MembersApiTest {

    static final String DIR = "target/test-data/members-" + System.nanoTime();

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("raftkv.data-dir", DIR);
        }
    }

    @Test
    void addListAndRemoveALearnerWithClearRefusals() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"leader".equals(given().get("/v1/status").jsonPath().getString("role"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no leader");
            }
            Thread.sleep(20);
        }
        given().get("/v1/members").then().statusCode(200)
                .body("members", hasSize(1)).body("members[0].id", equalTo("node1"))
                .body("members[0].role", equalTo("voter")).body("leader", equalTo("node1"));

        given().contentType(ContentType.JSON).body("{\"id\":\"n2\",\"url\":\"http://127.0.0.1:1\",\"learner\":true,\"peerUrl\":\"nowhere\"}")
                .post("/v1/members").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("peerUrl"));
        given().contentType(ContentType.JSON).body("{\"id\":\"n2\",\"url\":\"http://127.0.0.1:1\",\"learner\":true,\"peerUrl\":\"127.0.0.1:2\"}")
                .post("/v1/members").then().statusCode(200)
                .body("change", equalTo("ADD_LEARNER")).body("learners", contains("n2")).body("voters", contains("node1"));
        given().get("/v1/members").then().statusCode(200).body("members", hasSize(2))
                .body("members.find { it.id == 'n2' }.role", equalTo("learner"))
                .body("members.find { it.id == 'n2' }.url", equalTo("http://127.0.0.1:1"))
                .body("members.find { it.id == 'n2' }.peerUrl", equalTo("raftkv://127.0.0.1:2"))
                .body("members.find { it.id == 'node1' }.peerUrl", equalTo("raftkv://127.0.0.1:9081"))
                .body("members.find { it.id == 'n2' }.staysLearner", equalTo(true))
                .body("members.find { it.id == 'n2' }.caughtUp", equalTo(false));
        given().get("/v1/status").then().body("configuration.learners", contains("n2"));
        // the address book keeps the learned address
        String book = Files.readString(Path.of(DIR).resolve("members"));
        org.junit.jupiter.api.Assertions.assertTrue(book.contains("n2 http://127.0.0.1:1 learner peer=raftkv://127.0.0.1:2"), book);

        // refusals, each a problem body
        given().contentType(ContentType.JSON).body("{\"id\":\"n2\",\"url\":\"http://127.0.0.1:1\"}")
                .post("/v1/members").then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("already a member"));
        given().contentType(ContentType.JSON).body("{\"id\":\"bad id\",\"url\":\"http://x\"}").post("/v1/members")
                .then().statusCode(400);
        given().contentType(ContentType.JSON).body("{\"id\":\"n3\",\"url\":\"ftp://x\"}").post("/v1/members")
                .then().statusCode(400);
        given().contentType(ContentType.JSON).body("{\"url\":\"http://x\"}").post("/v1/members").then().statusCode(400);
        given().post("/v1/members/node1/promote").then().statusCode(400).body("detail", containsString("not a learner"));
        given().delete("/v1/members/nobody").then().statusCode(400);
        given().delete("/v1/members/node1").then().statusCode(412).contentType("application/problem+json")
                .body("quorum", equalTo(1));

        given().delete("/v1/members/n2").then().statusCode(200).body("change", equalTo("REMOVE"))
                .body("learners", hasSize(0));
        given().get("/v1/members").then().body("members", hasSize(1));
        given().body("still").put("/v1/kv/members-test").then().statusCode(200);
    }
}
