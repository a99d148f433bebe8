package io.raftkv.api;

import static io.restassured.RestAssured.given;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.raftkv.it.Waits;
import org.junit.jupiter.api.BeforeEach;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the single-node API tests that read streams (ClusterStreamApiTest, WatchApiTest) share: the node's address,
 * JSON, how long to wait for an event, a profile that gives each test class a node on a data directory of its own,
 * and a leader before every test.
 */
abstract class SingleNodeApiTest {

    static final String BASE = "http://localhost:8081";
    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration WAIT = Duration.ofSeconds(10);

    /** A fresh data directory, {@code target/test-data/NAME-<nanos>}, and the test's own settings. */
    abstract static class NodeProfile implements QuarkusTestProfile {
        private final String dataDir;
        private final Map<String, String> settings;

        NodeProfile(String name, Map<String, String> settings) {
            this.dataDir = "target/test-data/" + name + "-" + System.nanoTime();
            this.settings = settings;
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            Map<String, String> m = new HashMap<>(settings);
            m.put("raftkv.data-dir", dataDir);
            return m;
        }
    }

    @BeforeEach
    void leader() throws InterruptedException {
        Waits.await("a leader", Duration.ofSeconds(20), () -> Optional.of(true)
                .filter(x -> "leader".equals(given().get("/v1/status").jsonPath().getString("role"))));
    }
}
