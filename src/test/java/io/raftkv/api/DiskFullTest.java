package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.raftkv.events.EventLog;
import io.raftkv.server.RaftkvServer;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * A full disk, injected through the node's free-space probe (the real file system is exercised by
 * {@code DiskFullContainerIT}): the node stops acknowledging and says so everywhere, keeps serving stale reads, and
 * resumes by itself once space is back, with every acknowledged write kept.
 */
@QuarkusTest
@TestProfile(DiskFullTest.Profile.class)
class DiskFullTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("raftkv.data-dir", "target/test-data/disk-full-" + System.nanoTime(),
                    "raftkv.min-free-disk-bytes", "1000000",
                    "raftkv.disk-check-interval", "1s");
        }
    }

    @Inject
    RaftkvServer server;

    private final AtomicLong free = new AtomicLong(Long.MAX_VALUE / 4);

    @AfterEach
    void realSpaceAgain() {
        server.diskSpace().probe(null);
    }

    @Test
    void aFullDiskStopsAcknowledgingKeepsStaleReadsAndResumesWhenSpaceIsFreed() throws IOException {
        awaitRole("leader");
        server.diskSpace().probe(free::get);
        given().body("before").put("/v1/kv/full/a").then().statusCode(200);

        free.set(999_999); // below the 1,000,000 bytes that must stay free
        Response refused = given().body("x").put("/v1/kv/full/b");
        if (refused.statusCode() == 503) {
            // The periodic disk check (every 1 s) saw the low space first and the node was stopping: the write was
            // certainly not proposed, which 503 says; once it has stopped, writes get 507 (below).
            refused.then().contentType("application/problem+json").body("status", equalTo(503));
        } else {
            refused.then().statusCode(507).contentType("application/problem+json")
                    .header("Retry-After", "5")
                    .body("status", equalTo(507)).body("title", equalTo("Insufficient Storage"))
                    .body("detail", containsString("disk"));
        }
        awaitRole("stopped");
        given().get("/v1/status").then().statusCode(200).body("storage", startsWith("disk full"))
                .body("diskFreeBytes", equalTo(999_999)).body("diskMinFreeBytes", equalTo(1_000_000));
        given().body("x").put("/v1/kv/full/c").then().statusCode(507);
        given().get("/v1/kv/full/a").then().statusCode(507); // linearizable reads need the Raft side
        given().queryParam("consistency", "stale").get("/v1/kv/full/a").then().statusCode(200).body(equalTo("before"));
        given().get("/q/health/ready").then().statusCode(503);
        given().get("/q/health/live").then().statusCode(200);
        assertTrue(given().get("/q/metrics").asString().contains("raftkv_disk_full 1.0"));

        free.set(2_000_000); // twice the minimum (DiskSpaceTest: not before)
        awaitRole("leader");
        given().body("after").put("/v1/kv/full/d").then().statusCode(200);
        given().get("/v1/kv/full/a").then().statusCode(200).body(equalTo("before"));
        given().get("/v1/kv/full/b").then().statusCode(404); // refused, so never written
        assertTrue(given().get("/q/metrics").asString().contains("raftkv_disk_full 0.0"));
        String events = Files.readString(server.dataDir().resolve(EventLog.FILE_NAME));
        assertTrue(events.contains("DISK FULL"), events);
        assertTrue(events.contains("disk space available again"), events);
    }

    private static void awaitRole(String role) {
        awaitCondition("role " + role, () -> {
            Response r = given().get("/v1/status");
            return r.statusCode() == 200 && role.equals(r.jsonPath().getString("role"));
        });
    }

    private static void awaitCondition(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        throw new AssertionError("timed out waiting for " + what);
    }
}
