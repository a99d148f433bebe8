package io.raftkv.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The chart's Grafana dashboard and ServiceMonitor: valid, and only metrics the node registers. */
class DashboardTest {

    private static final Path DASHBOARD = Path.of("helm/raftkv/dashboards/raftkv.json");

    @Test
    void everyMetricTheDashboardQueriesIsOneTheNodeRegisters() throws Exception {
        JsonNode d = new ObjectMapper().readTree(Files.readString(DASHBOARD));
        assertEquals("raftkv", d.path("uid").asText());
        Set<String> queried = new TreeSet<>();
        Matcher m = Pattern.compile("raftkv_[a-z_]+").matcher(d.path("panels").toString());
        while (m.find()) {
            queried.add(m.group());
        }
        assertFalse(queried.isEmpty());
        // Micrometer's Prometheus names: a Timer "x" is x_seconds_{bucket,count,sum}, a Counter "x" is x_total.
        String registered = Files.readString(Path.of("src/main/java/io/raftkv/server/NodeMetrics.java"));
        for (String name : queried) {
            String base = name.replaceAll("_(bucket|count|sum)$", "").replaceAll("_seconds$", "").replaceAll("_total$", "");
            assertTrue(registered.contains("\"" + base + "\"") || registered.contains("\"" + name + "\""),
                    name + " is queried by the dashboard but not registered by NodeMetrics");
        }
    }

    @Test
    void theServiceMonitorScrapesEveryMemberThroughTheHeadlessService() {
        assertTrue(RenderedChart.render("rk", "ns").template().ofKind("ServiceMonitor").isEmpty(), "off by default");
        RenderedChart chart = RenderedChart.render("rk", "ns").set("metrics.serviceMonitor.enabled", true).template();
        JsonNode sm = chart.one("ServiceMonitor");
        JsonNode headless = chart.named("Service", "rk-raftkv-headless");
        sm.path("spec").path("selector").path("matchLabels").fields().forEachRemaining(e ->
                assertEquals(e.getValue().asText(), headless.path("metadata").path("labels").path(e.getKey()).asText(), e.getKey()));
        JsonNode ep = sm.path("spec").path("endpoints").get(0);
        assertEquals("/q/metrics", ep.path("path").asText());
        assertEquals("http", ep.path("port").asText());
        assertTrue(ep.path("bearerTokenSecret").isMissingNode(), "metrics are open by default");
        JsonNode closed = RenderedChart.render("rk", "ns").set("metrics.serviceMonitor.enabled", true)
                .set("auth.metricsOpen", false).template().one("ServiceMonitor").path("spec").path("endpoints").get(0);
        assertEquals("rk-raftkv-auth", closed.path("bearerTokenSecret").path("name").asText());
    }
}
