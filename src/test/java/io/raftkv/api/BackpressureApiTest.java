package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Over the bound on pending writes a write answers 429 with Retry-After and a problem body, and is not applied. */
@QuarkusTest
@TestProfile(BackpressureApiTest.Profile.class)
class BackpressureApiTest {

    public static class Profile implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("raftkv.data-dir", "target/test-data/backpressure-" + System.nanoTime(),
                    "raftkv.max-pending-writes", "2");
        }
    }

    @Test
    void writesBeyondTheBoundAre429AndNotApplied() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"leader".equals(given().get("/v1/status").jsonPath().getString("role"))) {
            assertTrue(System.nanoTime() < deadline, "no leader");
            Thread.sleep(20);
        }
        HttpClient http = HttpClient.newHttpClient();
        Map<String, CompletableFuture<HttpResponse<String>>> answers = new LinkedHashMap<>();
        for (int i = 0; i < 64; i++) {
            String key = "bp/k" + i;
            answers.put(key, http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8081/v1/kv/" + key))
                    .PUT(HttpRequest.BodyPublishers.ofString("v".repeat(10_000))).build(), HttpResponse.BodyHandlers.ofString()));
        }
        int refused = 0;
        for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> e : answers.entrySet()) {
            HttpResponse<String> r = e.getValue().get();
            Response now = given().get("/v1/kv/" + e.getKey());
            if (r.statusCode() == 429) {
                refused++;
                assertEquals("1", r.headers().firstValue("Retry-After").orElse(null), r.body());
                assertEquals("application/problem+json", r.headers().firstValue("Content-Type").orElse(null));
                assertTrue(r.body().contains("not proposed"), r.body());
                assertEquals(404, now.statusCode(), e.getKey() + " was refused but is applied");
            } else {
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(200, now.statusCode(), e.getKey() + " was acknowledged but is missing");
            }
        }
        assertTrue(refused > 0, "64 concurrent writes against a bound of 2: some must be refused");
    }
}
