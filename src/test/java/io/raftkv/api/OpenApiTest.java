package io.raftkv.api;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

/** /q/openapi: the client API with its parameters and problem responses, and nothing of the peer endpoints. */
@QuarkusTest
class OpenApiTest {

    @Test
    void theClientApiIsDocumentedAndThePeerEndpointsAreNot() throws Exception {
        String body = given().queryParam("format", "json").get("/q/openapi").then().statusCode(200).extract().asString();
        JsonNode doc = new ObjectMapper().readTree(body);
        JsonNode paths = doc.get("paths");
        for (String p : new String[] {"/v1/kv", "/v1/kv/{key}", "/v1/watch", "/v1/status", "/v1/members", "/v1/snapshot",
                "/v1/leader/transfer", "/v1/log", "/v1/events", "/v1/cluster/stream"}) {
            assertTrue(paths.has(p), p + " is documented: " + paths.fieldNames());
        }
        paths.fieldNames().forEachRemaining(p -> assertFalse(p.startsWith("/raft"), "peer endpoint " + p + " is listed"));
        assertEquals("raftkv client API", doc.at("/info/title").asText());

        JsonNode put = paths.get("/v1/kv/{key}").get("put");
        assertTrue(put.get("summary").asText().contains("compare-and-set"), put.toString());
        assertEquals("#/components/schemas/Problem",
                put.at("/responses/409/content/application~1problem+json/schema/$ref").asText(), put.toString());
        assertNotNull(put.at("/responses/504").get("description"));
        boolean described = false;
        for (JsonNode param : put.get("parameters")) {
            if (param.get("name").asText().equals("ifVersion")) {
                described = param.get("description").asText().contains("version");
            }
        }
        assertTrue(described, "ifVersion is explained: " + put.get("parameters"));
        JsonNode watch = paths.get("/v1/watch").get("get");
        assertTrue(watch.has("responses") && watch.get("responses").has("410"), watch.toString());
        assertTrue(doc.at("/components/schemas/Problem/properties").has("detail"));
    }
}
