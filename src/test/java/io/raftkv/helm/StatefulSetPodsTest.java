package io.raftkv.helm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.util.Map;

/** The kubelet emulation the wiring IT relies on: env resolution, $(VAR) expansion, pod DNS names, quantities. */
class StatefulSetPodsTest {

    @Test
    void expandsDefinedReferencesLikeTheKubelet() {
        Map<String, String> vars = Map.of("A", "x", "B", "y");
        assertEquals("http://x.svc:8080", StatefulSetPods.expand("http://$(A).svc:8080", vars));
        assertEquals("$(UNDEFINED)-y", StatefulSetPods.expand("$(UNDEFINED)-$(B)", vars));
        assertEquals("$(A) stays", StatefulSetPods.expand("$$(A) stays", vars));
        assertEquals("a $ b $x", StatefulSetPods.expand("a $ b $x", vars));
        assertEquals("cost: $", StatefulSetPods.expand("cost: $", vars));
    }

    @Test
    void resolvesTheDownwardApiAndOnlyEarlierVariables() {
        JsonNode env = RenderedChart.parse("""
                items:
                  - name: LATE_REF
                    value: "$(POD)"
                  - name: POD
                    valueFrom: {fieldRef: {fieldPath: metadata.name}}
                  - name: NS
                    valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
                  - name: URL
                    value: "http://$(POD).h.$(NS).svc"
                """).get(0).path("items");
        StatefulSetPods.Pod pod = new StatefulSetPods.Pod(1, "rk-raftkv-1", "ns1", "unused");
        Map<String, String> out = StatefulSetPods.resolveEnv(env, pod);
        assertEquals("$(POD)", out.get("LATE_REF"));
        assertEquals("rk-raftkv-1", out.get("POD"));
        assertEquals("ns1", out.get("NS"));
        assertEquals("http://rk-raftkv-1.h.ns1.svc", out.get("URL"));

        JsonNode unsupported = RenderedChart.parse("items:\n  - name: IP\n    valueFrom: {fieldRef: {fieldPath: status.podIP}}\n")
                .get(0).path("items");
        assertThrows(AssertionError.class, () -> StatefulSetPods.resolveEnv(unsupported, pod));
    }

    @Test
    void podDnsNamesFollowKubernetes() {
        JsonNode sts = RenderedChart.parse("metadata: {name: rk-raftkv}\nspec: {serviceName: rk-raftkv-headless}\n").get(0);
        assertEquals("rk-raftkv-2.rk-raftkv-headless.ns.svc.cluster.local", StatefulSetPods.pod(sts, "ns", 2).fqdn());
        assertEquals("rk-raftkv-2", StatefulSetPods.pod(sts, "ns", 2).name());
    }

    @Test
    void memoryQuantities() {
        assertEquals(512L << 20, StatefulSetPods.bytes("512Mi"));
        assertEquals(1L << 30, StatefulSetPods.bytes("1Gi"));
        assertEquals(1_500_000_000L, StatefulSetPods.bytes("1.5G"));
        assertEquals(1000L, StatefulSetPods.bytes("1000"));
    }
}
