package io.raftkv.helm;

import static io.raftkv.helm.RenderedChart.env;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * The Helm chart helm/raftkv, linted and rendered by the helm that helm-java bundles (no cluster): the manifests a
 * release gets with the default values and with non-default ones, and the values the chart must refuse.
 */
class HelmChartTest {

    private static final String RELEASE = "rk";
    private static final String NS = "kv-ns";
    private static final String FULLNAME = "rk-raftkv";
    private static final Set<String> SELECTOR = Set.of("app.kubernetes.io/name", "app.kubernetes.io/instance");

    @Test
    void lintPassesStrict() {
        LintResult lint = new Helm(RenderedChart.CHART).lint().strict().call();
        assertFalse(lint.isFailed(), "helm lint --strict: " + lint.getMessages());
        for (String m : lint.getMessages()) {
            assertFalse(m.contains("[ERROR]") || m.contains("[WARNING]"), "helm lint --strict: " + m);
        }
    }

    @Test
    void defaultsRenderAThreeMemberClusterWithHeadlessPeerDiscovery() {
        RenderedChart chart = RenderedChart.render(RELEASE, NS).template();

        Set<String> kinds = new TreeSet<>();
        chart.manifests().forEach(m -> kinds.add(m.path("kind").asText() + "/" + m.path("metadata").path("name").asText()));
        assertEquals(new TreeSet<>(List.of("StatefulSet/rk-raftkv", "Service/rk-raftkv", "Service/rk-raftkv-headless",
                "PodDisruptionBudget/rk-raftkv", "Secret/rk-raftkv-auth", "Secret/rk-raftkv-tls")), kinds);
        chart.manifests().forEach(m -> assertEquals(NS, m.path("metadata").path("namespace").asText(), m.toString()));

        JsonNode sts = chart.one("StatefulSet");
        JsonNode spec = sts.path("spec");
        assertEquals(3, spec.path("replicas").asInt());
        assertEquals("Parallel", spec.path("podManagementPolicy").asText());
        assertEquals("rk-raftkv-headless", spec.path("serviceName").asText());
        JsonNode podLabels = spec.path("template").path("metadata").path("labels");
        assertEquals(spec.path("selector").path("matchLabels"), pick(podLabels, SELECTOR));

        // Peers find each other before they are ready, through the headless Service the StatefulSet names.
        JsonNode headless = chart.named("Service", "rk-raftkv-headless");
        assertEquals("None", headless.path("spec").path("clusterIP").asText());
        assertTrue(headless.path("spec").path("publishNotReadyAddresses").asBoolean(), "publishNotReadyAddresses");
        assertSelects(headless, podLabels);
        JsonNode client = chart.named("Service", FULLNAME);
        assertEquals("ClusterIP", client.path("spec").path("type").asText());
        assertFalse(client.path("spec").has("publishNotReadyAddresses"), "the client Service only routes to ready members");
        assertSelects(client, podLabels);
        assertEquals("http", client.path("spec").path("ports").get(0).path("targetPort").asText());
        // The peer port is on the headless Service only.
        assertFalse(client.path("spec").path("ports").findValues("targetPort").stream().anyMatch(p -> p.asText().equals("peer")),
                "the client Service has no peer port");
        assertEquals(List.of("http", "peer", "https"), headless.path("spec").path("ports").findValues("targetPort").stream()
                .map(JsonNode::asText).toList());

        JsonNode c = chart.container();
        assertEquals("raftkv:native", c.path("image").asText());
        assertEquals(8080, namedPort(c, "http"));
        Map<String, JsonNode> env = env(c);
        assertEquals("metadata.name", env.get("RAFTKV_NODE_ID").path("valueFrom").path("fieldRef").path("fieldPath").asText());
        assertEquals(expectedPeers(3, "cluster.local"), env.get("RAFTKV_PEERS").path("value").asText());
        assertEquals("http://$(RAFTKV_NODE_ID).rk-raftkv-headless." + NS + ".svc.cluster.local:8080",
                env.get("RAFTKV_ADVERTISE_URL").path("value").asText());
        assertEquals("/data", env.get("RAFTKV_DATA_DIR").path("value").asText());
        assertEquals("8080", env.get("QUARKUS_HTTP_PORT").path("value").asText());
        assertEquals("50ms", env.get("RAFTKV_HEARTBEAT_INTERVAL").path("value").asText());
        assertEquals("500ms", env.get("RAFTKV_ELECTION_TIMEOUT").path("value").asText());
        assertEquals("5s", env.get("RAFTKV_REQUEST_TIMEOUT").path("value").asText());
        // Peers on their own port, with mutual TLS from the Secret mounted in /tls.
        assertEquals(9080, namedPort(c, "peer"));
        assertEquals("9080", env.get("RAFTKV_PEER_PORT").path("value").asText());
        assertEquals("true", env.get("RAFTKV_PEER_TLS").path("value").asText());
        assertEquals("/tls", env.get("RAFTKV_PEER_TLS_DIR").path("value").asText());
        assertEquals("rk-raftkv-0=rk-raftkv-0.rk-raftkv-headless." + NS + ".svc.cluster.local:9080",
                env.get("RAFTKV_PEER_URLS").path("value").asText().split(",")[0]);
        assertEquals("secret", volumeSource(spec.path("template").path("spec"), mountedVolume(c, "/tls")));
        assertEquals("raftkv-peer-tls", spec.path("template").path("spec").path("volumes").findValue("secretName").asText());
        // Every node id (a pod name) is a valid raftkv node id.
        for (String member : env.get("RAFTKV_PEERS").path("value").asText().split(",")) {
            assertTrue(member.substring(0, member.indexOf('=')).matches("[A-Za-z0-9._-]{1,64}"), member);
        }

        // Probes on the application's health endpoints, through the named port.
        assertProbe(c, "readinessProbe", "/q/health/ready");
        assertProbe(c, "livenessProbe", "/q/health/live");
        assertProbe(c, "startupProbe", "/q/health/live");

        // Security: non-root uid 1001, read-only root with /tmp on an emptyDir, no capabilities, RuntimeDefault seccomp.
        JsonNode sc = c.path("securityContext");
        assertTrue(sc.path("runAsNonRoot").asBoolean(), "runAsNonRoot");
        assertEquals(1001, sc.path("runAsUser").asInt());
        assertTrue(sc.path("readOnlyRootFilesystem").asBoolean(), "readOnlyRootFilesystem");
        assertFalse(sc.path("allowPrivilegeEscalation").asBoolean(true), "allowPrivilegeEscalation");
        assertEquals(List.of("ALL"), texts(sc.path("capabilities").path("drop")));
        assertEquals("RuntimeDefault", sc.path("seccompProfile").path("type").asText());
        JsonNode podSpec = spec.path("template").path("spec");
        assertEquals("RuntimeDefault", podSpec.path("securityContext").path("seccompProfile").path("type").asText());
        assertEquals(1001, podSpec.path("securityContext").path("fsGroup").asInt());
        assertFalse(podSpec.path("automountServiceAccountToken").asBoolean(true), "no API token in the pods");
        assertEquals("emptyDir", volumeSource(podSpec, mountedVolume(c, "/tmp")));

        // /data on a PersistentVolumeClaim per member.
        String dataVolume = mountedVolume(c, "/data");
        assertFalse(hasVolume(podSpec, dataVolume), "with persistence, /data is not a pod volume");
        JsonNode claims = spec.path("volumeClaimTemplates");
        assertEquals(1, claims.size());
        assertEquals(dataVolume, claims.get(0).path("metadata").path("name").asText());
        assertEquals("1Gi", claims.get(0).path("spec").path("resources").path("requests").path("storage").asText());
        assertEquals(List.of("ReadWriteOnce"), texts(claims.get(0).path("spec").path("accessModes")));
        assertFalse(claims.get(0).path("spec").has("storageClassName"), "default StorageClass");

        assertEquals("512Mi", c.path("resources").path("limits").path("memory").asText());
        assertEquals("100m", c.path("resources").path("requests").path("cpu").asText());

        // Preferred anti-affinity by hostname, on the members' own labels.
        JsonNode preferred = podSpec.path("affinity").path("podAntiAffinity").path("preferredDuringSchedulingIgnoredDuringExecution");
        assertEquals(1, preferred.size());
        JsonNode term = preferred.get(0).path("podAffinityTerm");
        assertEquals("kubernetes.io/hostname", term.path("topologyKey").asText());
        assertEquals(spec.path("selector").path("matchLabels"), term.path("labelSelector").path("matchLabels"));
        assertTrue(podSpec.path("affinity").path("podAntiAffinity").path("requiredDuringSchedulingIgnoredDuringExecution").isMissingNode());

        // The PodDisruptionBudget keeps a quorum: at most 1 of 3 members down.
        JsonNode pdb = chart.one("PodDisruptionBudget");
        assertEquals("policy/v1", pdb.path("apiVersion").asText());
        assertEquals(1, pdb.path("spec").path("maxUnavailable").asInt());
        assertEquals(spec.path("selector").path("matchLabels"), pdb.path("spec").path("selector").path("matchLabels"));
    }

    @Test
    void membershipIsBootstrappedOnInstallAndJoinedOnUpgradeAndAScaleDownHookRemovesTheHighestOrdinals() {
        RenderedChart install = RenderedChart.render(RELEASE, NS).template();
        Map<String, JsonNode> env = env(install.container());
        assertEquals("new", env.get("RAFTKV_INITIAL_CLUSTER_STATE").path("value").asText(), "helm template renders an install");
        assertEquals("true", env.get("RAFTKV_JOIN").path("value").asText());
        // A member removed by a scale-down must not come back on its old volume.
        assertEquals("Delete", install.one("StatefulSet").path("spec").path("persistentVolumeClaimRetentionPolicy")
                .path("whenScaled").asText());
        // What an upgrade renders (helm-java's template cannot render one: the value stands in for .Release.IsUpgrade).
        Map<String, JsonNode> upgraded = env(RenderedChart.render(RELEASE, NS).set("replicaCount", 5)
                .set("membership.initialClusterState", "existing").template().container());
        assertEquals("existing", upgraded.get("RAFTKV_INITIAL_CLUSTER_STATE").path("value").asText());
        assertEquals(expectedPeers(5, "cluster.local"), upgraded.get("RAFTKV_PEERS").path("value").asText());
        assertThrows(RuntimeException.class, () -> RenderedChart.render(RELEASE, NS)
                .set("membership.initialClusterState", "maybe").template());

        // The hook: the raftkv image, `raftkv scale-down`, through the client Service, keeping ordinals below replicaCount.
        assertTrue(install.ofKind("Job").isEmpty(), "hooks are not part of the release manifest");
        RenderedChart hooks = RenderedChart.render(RELEASE, NS).set("replicaCount", 3).templateWithHooks();
        JsonNode job = hooks.one("Job");
        assertEquals("rk-raftkv-scale-down", job.path("metadata").path("name").asText());
        assertEquals("pre-upgrade,pre-rollback", job.path("metadata").path("annotations").path("raftkv.io/was-helm-hook").asText());
        JsonNode jc = job.path("spec").path("template").path("spec").path("containers").get(0);
        assertEquals("raftkv:native", jc.path("image").asText());
        // With the defaults (client TLS and authentication on): HTTPS, the admin token and the CA of the chart's Secrets.
        assertEquals(List.of("scale-down", "--endpoints", "https://rk-raftkv." + NS + ".svc.cluster.local:8443", "--prefix",
                "rk-raftkv-", "--keep", "3", "--timeout", "120s", "--token-file", "/etc/raftkv/membership/admin-token",
                "--cacert", "/etc/raftkv/membership/ca.crt"), texts(jc.path("args")));
        assertTrue(job.path("spec").path("template").path("spec").path("volumes").toString().contains("rk-raftkv-auth"));
        assertEquals("/etc/raftkv/membership/admin-token", env.get("RAFTKV_JOIN_TOKEN_FILE").path("value").asText());
        assertEquals("/etc/raftkv/membership/ca.crt", env.get("RAFTKV_JOIN_CACERT").path("value").asText());
        JsonNode plain = RenderedChart.render(RELEASE, NS).set("replicaCount", 3).set("clientTls.enabled", false)
                .set("auth.enabled", false).templateWithHooks().one("Job").path("spec").path("template").path("spec")
                .path("containers").get(0);
        assertEquals(List.of("scale-down", "--endpoints", "http://rk-raftkv." + NS + ".svc.cluster.local:8080", "--prefix",
                "rk-raftkv-", "--keep", "3", "--timeout", "120s"), texts(plain.path("args")));
        assertEquals("Never", job.path("spec").path("template").path("spec").path("restartPolicy").asText());
        assertTrue(jc.path("securityContext").path("readOnlyRootFilesystem").asBoolean(), "the pods' security context");
        assertTrue(RenderedChart.render(RELEASE, NS).set("membership.scaleDownHook.enabled", false).templateWithHooks()
                .ofKind("Job").isEmpty());
    }

    @Test
    void backupsAreAScheduledVerifiedSnapshotSaveAndARestoreStartsOrdinalZeroFromOne() {
        RenderedChart defaults = RenderedChart.render(RELEASE, NS).template();
        assertTrue(defaults.ofKind("CronJob").isEmpty(), "backups are off by default");
        assertFalse(defaults.one("StatefulSet").path("spec").path("template").path("spec").has("initContainers"));

        RenderedChart backup = RenderedChart.render(RELEASE, NS).set("backup.enabled", true).set("backup.retain", 4)
                .set("backup.schedule", "30 2 * * *").template();
        JsonNode cron = backup.one("CronJob");
        assertEquals("30 2 * * *", cron.path("spec").path("schedule").asText());
        assertEquals("Forbid", cron.path("spec").path("concurrencyPolicy").asText(), "never two backups at once");
        JsonNode pod = cron.path("spec").path("jobTemplate").path("spec").path("template").path("spec");
        JsonNode c = pod.path("containers").get(0);
        assertEquals("raftkv:native", c.path("image").asText());
        assertEquals(List.of("ctl", "--endpoints", "https://rk-raftkv." + NS + ".svc.cluster.local:8443", "--timeout", "300s",
                "--cacert", "/etc/raftkv/membership/ca.crt", "snapshot", "save", "--dir", "/backups", "--retain", "4"),
                texts(c.path("args")));
        JsonNode token = env(c).get("RAFTKV_TOKEN").path("valueFrom").path("secretKeyRef");
        assertEquals("rk-raftkv-auth", token.path("name").asText());
        assertEquals("admin-token", token.path("key").asText());
        assertTrue(c.path("securityContext").path("readOnlyRootFilesystem").asBoolean());
        JsonNode claim = backup.one("PersistentVolumeClaim");
        assertEquals("rk-raftkv-backup", claim.path("metadata").path("name").asText());
        assertEquals("keep", claim.path("metadata").path("annotations").path("helm.sh/resource-policy").asText(),
                "helm uninstall keeps the backups");
        assertTrue(pod.path("volumes").toString().contains("\"claimName\":\"rk-raftkv-backup\""), pod.path("volumes").toString());
        RenderedChart own = RenderedChart.render(RELEASE, NS).set("backup.enabled", true)
                .set("backup.persistence.existingClaim", "nfs-backups").set("auth.enabled", false).set("clientTls.enabled", false)
                .template();
        assertTrue(own.ofKind("PersistentVolumeClaim").isEmpty(), "an existing claim: none created");
        JsonNode ownPod = own.one("CronJob").path("spec").path("jobTemplate").path("spec").path("template").path("spec");
        assertTrue(ownPod.path("volumes").toString().contains("nfs-backups"));
        assertEquals(List.of("ctl", "--endpoints", "http://rk-raftkv." + NS + ".svc.cluster.local:8080", "--timeout", "300s",
                "snapshot", "save", "--dir", "/backups", "--retain", "7"), texts(ownPod.path("containers").get(0).path("args")));
        assertFalse(ownPod.path("containers").get(0).has("env"), "no token without auth");

        RenderedChart restore = RenderedChart.render(RELEASE, NS).set("restore.enabled", true)
                .set("restore.claimName", "rk-raftkv-backup").set("restore.file", "raftkv-20261201T060000Z-42.snap").template();
        JsonNode spec = restore.one("StatefulSet").path("spec").path("template").path("spec");
        JsonNode init = spec.path("initContainers").get(0);
        assertEquals(List.of("restore", "/restore/raftkv-20261201T060000Z-42.snap", "--data-dir", "/data", "--node-id",
                "$(RAFTKV_NODE_ID)", "--only", "rk-raftkv-0", "--if-empty"), texts(init.path("args")));
        assertEquals("metadata.name", env(init).get("RAFTKV_NODE_ID").path("valueFrom").path("fieldRef").path("fieldPath").asText());
        assertTrue(init.path("volumeMounts").toString().contains("\"mountPath\":\"/data\""));
        assertTrue(spec.path("volumes").toString().contains("\"claimName\":\"rk-raftkv-backup\",\"readOnly\":true"),
                spec.path("volumes").toString());
        assertEquals("existing", env(restore.container()).get("RAFTKV_INITIAL_CLUSTER_STATE").path("value").asText(),
                "even on install: ordinal 0 is the restored cluster, the others join it");
        Exception noFile = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("restore.enabled", true)
                .set("restore.claimName", "c").template());
        assertTrue(noFile.getMessage().contains("restore.claimName and restore.file"), noFile.getMessage());
        Exception noJoin = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("restore.enabled", true)
                .set("restore.claimName", "c").set("restore.file", "f.snap").set("membership.join", false).template());
        assertTrue(noJoin.getMessage().contains("membership.join=true"), noJoin.getMessage());
    }

    @Test
    void nonDefaultValues() {
        RenderedChart chart = RenderedChart.render(RELEASE, NS)
                .set("replicaCount", 5)
                .set("persistence.enabled", false)
                .set("image.repository", "registry.example.com/team/raftkv")
                .set("image.tag", "1.2.3")
                .set("clusterDomain", "k8s.example")
                .set("podAntiAffinity.type", "required")
                .set("raft.electionTimeout", "1s")
                .values("""
                        resources:
                          requests: {cpu: 500m, memory: 1Gi}
                          limits: {cpu: "2", memory: 2Gi}
                        extraEnv:
                          - name: JDK_JAVA_OPTIONS
                            value: -XX:MaxRAMPercentage=60
                        """)
                .template();

        JsonNode spec = chart.one("StatefulSet").path("spec");
        assertEquals(5, spec.path("replicas").asInt());
        JsonNode c = chart.container();
        assertEquals("registry.example.com/team/raftkv:1.2.3", c.path("image").asText());
        Map<String, JsonNode> env = env(c);
        String peers = env.get("RAFTKV_PEERS").path("value").asText();
        assertEquals(5, peers.split(",").length, peers);
        assertEquals(expectedPeers(5, "k8s.example"), peers);
        assertEquals("1s", env.get("RAFTKV_ELECTION_TIMEOUT").path("value").asText());
        assertEquals("-XX:MaxRAMPercentage=60", env.get("JDK_JAVA_OPTIONS").path("value").asText());

        assertEquals(2, chart.one("PodDisruptionBudget").path("spec").path("maxUnavailable").asInt());

        // No persistence: /data is an emptyDir, no claims.
        JsonNode podSpec = spec.path("template").path("spec");
        assertTrue(spec.path("volumeClaimTemplates").isMissingNode(), "no volumeClaimTemplates without persistence");
        assertEquals("emptyDir", volumeSource(podSpec, mountedVolume(c, "/data")));

        JsonNode resources = c.path("resources");
        assertEquals("500m", resources.path("requests").path("cpu").asText());
        assertEquals("1Gi", resources.path("requests").path("memory").asText());
        assertEquals("2", resources.path("limits").path("cpu").asText());
        assertEquals("2Gi", resources.path("limits").path("memory").asText());

        JsonNode required = podSpec.path("affinity").path("podAntiAffinity").path("requiredDuringSchedulingIgnoredDuringExecution");
        assertEquals(1, required.size());
        assertEquals("kubernetes.io/hostname", required.get(0).path("topologyKey").asText());
        assertTrue(podSpec.path("affinity").path("podAntiAffinity").path("preferredDuringSchedulingIgnoredDuringExecution").isMissingNode());
    }

    @ParameterizedTest(name = "{0} members")
    @ValueSource(ints = {1, 3, 5, 7, 9})
    void disruptionBudgetNeverBreaksQuorum(int replicas) {
        RenderedChart chart = RenderedChart.render(RELEASE, NS).set("replicaCount", replicas).template();
        int maxUnavailable = chart.one("PodDisruptionBudget").path("spec").path("maxUnavailable").asInt(-1);
        int quorum = replicas / 2 + 1;
        assertEquals((replicas - 1) / 2, maxUnavailable);
        assertTrue(replicas - maxUnavailable >= quorum, "the members left after evictions are a quorum");
        assertEquals(replicas, chart.one("StatefulSet").path("spec").path("replicas").asInt());
        assertEquals(replicas, env(chart.container()).get("RAFTKV_PEERS").path("value").asText().split(",").length);
    }

    @Test
    void peerTlsWithoutCertificatesFailsRendering() {
        Exception e = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("peerTls.existingSecret", "").template());
        assertTrue(e.getMessage().contains("peerTls.enabled needs the members' certificates"), e.getMessage());
        Exception both = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS)
                .set("peerTls.certManager.enabled", true).set("peerTls.certManager.issuerRef.name", "ca").template());
        assertTrue(both.getMessage().contains("not both"), both.getMessage());
        Exception noIssuer = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("peerTls.existingSecret", "")
                .set("peerTls.certManager.enabled", true).template());
        assertTrue(noIssuer.getMessage().contains("issuerRef.name is required"), noIssuer.getMessage());
    }

    @Test
    void certManagerIssuesOneCertificatePerMemberProjectedIntoTls() {
        RenderedChart chart = RenderedChart.render(RELEASE, NS).set("peerTls.existingSecret", "")
                .set("peerTls.certManager.enabled", true).set("peerTls.certManager.issuerRef.name", "raftkv-ca")
                .set("peerTls.certManager.issuerRef.kind", "ClusterIssuer").template();
        List<JsonNode> certs = chart.ofKind("Certificate");
        assertEquals(3, certs.size());
        for (int i = 0; i < 3; i++) {
            JsonNode spec = certs.get(i).path("spec");
            assertEquals("rk-raftkv-peer-" + i, spec.path("secretName").asText());
            assertEquals(List.of("urn:raftkv:node:rk-raftkv-" + i), texts(spec.path("uris")));
            assertEquals("PKCS8", spec.path("privateKey").path("encoding").asText());
            assertEquals(List.of("server auth", "client auth"), texts(spec.path("usages")));
            assertEquals("ClusterIssuer", spec.path("issuerRef").path("kind").asText());
            assertEquals("raftkv-ca", spec.path("issuerRef").path("name").asText());
        }
        JsonNode podSpec = chart.one("StatefulSet").path("spec").path("template").path("spec");
        JsonNode c = chart.container();
        assertEquals("projected", volumeSource(podSpec, mountedVolume(c, "/tls")));
        List<String> paths = podSpec.path("volumes").findValues("path").stream().map(JsonNode::asText).toList();
        assertTrue(paths.containsAll(List.of("ca.crt", "rk-raftkv-0.crt", "rk-raftkv-0.key", "rk-raftkv-2.key")), paths.toString());
    }

    @Test
    void peerTlsCanBeTurnedOffAndThePeerPortMoved() {
        RenderedChart chart = RenderedChart.render(RELEASE, NS).set("peerTls.enabled", false).set("peerPort", 7000).template();
        JsonNode c = chart.container();
        Map<String, JsonNode> env = env(c);
        assertEquals("false", env.get("RAFTKV_PEER_TLS").path("value").asText());
        assertFalse(env.containsKey("RAFTKV_PEER_TLS_DIR"));
        assertEquals(7000, namedPort(c, "peer"));
        assertTrue(env.get("RAFTKV_PEER_URLS").path("value").asText().endsWith(".svc.cluster.local:7000"));
        assertTrue(chart.ofKind("Certificate").isEmpty());
        assertFalse(c.path("volumeMounts").findValues("mountPath").stream().anyMatch(m -> m.asText().equals("/tls")));
    }

    @ParameterizedTest(name = "replicaCount={0}")
    @ValueSource(ints = {2, 4, 6})
    void anEvenMemberCountFailsRendering(int replicas) {
        Exception e = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("replicaCount", replicas).template());
        assertTrue(e.getMessage().contains("replicaCount must be odd (1, 3, 5, ...), got " + replicas), e.getMessage());
    }

    @ParameterizedTest(name = "replicaCount={0}")
    @ValueSource(ints = {0, -1, -3})
    void lessThanOneMemberFailsRendering(int replicas) {
        Exception e = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("replicaCount", replicas).template());
        assertTrue(e.getMessage().contains("replicaCount must be an odd number of at least 1"), e.getMessage());
    }

    @Test
    void aFractionalOrNonNumericMemberCountFailsRendering() {
        for (String bad : List.of("3.5", "three")) {
            Exception e = assertThrows(Exception.class, () -> RenderedChart.render(RELEASE, NS).set("replicaCount", bad).template());
            assertTrue(e.getMessage().contains("replicaCount must be a whole number"), bad + ": " + e.getMessage());
        }
    }

    @Test
    void anUnknownAntiAffinityTypeFailsRendering() {
        Exception e = assertThrows(Exception.class,
                () -> RenderedChart.render(RELEASE, NS).set("podAntiAffinity.type", "sometimes").template());
        assertTrue(e.getMessage().contains("podAntiAffinity.type must be preferred, required or none"), e.getMessage());
        JsonNode none = RenderedChart.render(RELEASE, NS).set("podAntiAffinity.type", "none").template()
                .one("StatefulSet").path("spec").path("template").path("spec");
        assertTrue(none.path("affinity").isMissingNode(), "no affinity with type none");
    }

    @Test
    void storageClassAndDigest() {
        JsonNode fast = RenderedChart.render(RELEASE, NS).set("persistence.storageClass", "fast-ssd").set("persistence.size", "20Gi")
                .template().one("StatefulSet").path("spec").path("volumeClaimTemplates").get(0).path("spec");
        assertEquals("fast-ssd", fast.path("storageClassName").asText());
        assertEquals("20Gi", fast.path("resources").path("requests").path("storage").asText());
        JsonNode none = RenderedChart.render(RELEASE, NS).set("persistence.storageClass", "-")
                .template().one("StatefulSet").path("spec").path("volumeClaimTemplates").get(0).path("spec");
        assertEquals("", none.path("storageClassName").asText("missing"));

        String digest = "sha256:" + "ab".repeat(32);
        assertEquals("raftkv@" + digest, RenderedChart.render(RELEASE, NS).set("image.digest", digest).template()
                .container().path("image").asText());
    }

    @Test
    void longReleaseNamesStayValidDnsLabelsAndNodeIds() {
        String release = "a-long-release-name-for-the-raftkv-cluster-in-prod"; // 50 characters; helm allows 53
        RenderedChart chart = RenderedChart.render(release, NS).template();
        JsonNode sts = chart.one("StatefulSet");
        String name = sts.path("metadata").path("name").asText();
        assertTrue(name.length() <= 52, name);
        String headless = sts.path("spec").path("serviceName").asText();
        assertTrue(headless.length() <= 63 && headless.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?"), headless);
        chart.named("Service", headless);
        for (String member : env(chart.container()).get("RAFTKV_PEERS").path("value").asText().split(",")) {
            String id = member.substring(0, member.indexOf('='));
            assertTrue(id.matches("[A-Za-z0-9._-]{1,64}") && id.length() <= 63 && id.startsWith(name + "-"), id);
        }
    }

    @Test
    void notesWarnWhenPersistenceIsOff() {
        String withPersistence = RenderedChart.render(RELEASE, NS).notes();
        assertFalse(withPersistence.contains("WARNING: persistence is disabled"), withPersistence);
        assertTrue(withPersistence.contains("https://rk-raftkv." + NS + ".svc.cluster.local:8443/v1/kv/<key>"), withPersistence);
        assertTrue(withPersistence.contains("/v1/status"), withPersistence);
        assertTrue(withPersistence.contains("helm test rk"), withPersistence);

        String without = RenderedChart.render(RELEASE, NS).set("persistence.enabled", false).notes();
        assertTrue(without.contains("WARNING: persistence is disabled"), without);
        assertTrue(without.contains("ALL DATA IS LOST"), without);

        assertFalse(withPersistence.contains("peerTls.enabled is false"), withPersistence);
        String noTls = RenderedChart.render(RELEASE, NS).set("peerTls.enabled", false).notes();
        assertTrue(noTls.contains("peerTls.enabled is false"), noTls);
    }

    @Test
    void clientTlsAndAuthAreOnByDefaultWithGeneratedSecrets() throws Exception {
        RenderedChart chart = RenderedChart.render(RELEASE, NS).template();
        JsonNode c = chart.container();
        Map<String, JsonNode> env = env(c);
        assertEquals(8443, namedPort(c, "https"));
        assertEquals("8443", env.get("QUARKUS_HTTP_SSL_PORT").path("value").asText());
        assertEquals("/etc/raftkv/tls/tls.crt", env.get("QUARKUS_HTTP_SSL_CERTIFICATE_FILES").path("value").asText());
        assertEquals("/etc/raftkv/tls/tls.key", env.get("QUARKUS_HTTP_SSL_CERTIFICATE_KEY_FILES").path("value").asText());
        assertEquals("/etc/raftkv/auth/tokens", env.get("RAFTKV_AUTH_TOKENS_FILE").path("value").asText());
        assertEquals("true", env.get("RAFTKV_AUTH_METRICS_OPEN").path("value").asText());
        assertFalse(env.containsKey("QUARKUS_HTTP_SSL_CERTIFICATE_TRUST_STORE_FILE"), "no client CA unless one is given");
        JsonNode podSpec = chart.one("StatefulSet").path("spec").path("template").path("spec");
        Map<String, String> volumes = new java.util.HashMap<>();
        podSpec.path("volumes").forEach(v -> volumes.put(v.path("name").asText(), v.path("secret").path("secretName").asText()));
        assertEquals("rk-raftkv-tls", volumes.get("client-tls"));
        assertEquals("rk-raftkv-auth", volumes.get("auth"));
        c.path("volumeMounts").forEach(m -> assertFalse(m.has("subPath"), "a subPath mount never sees Secret updates: " + m));
        // The probes stay on the plain port (no credentials, no TLS).
        assertEquals("http", c.path("readinessProbe").path("httpGet").path("port").asText());

        JsonNode tokens = chart.named("Secret", "rk-raftkv-auth");
        String admin = decode(tokens.path("data").path("admin-token").asText());
        assertEquals(40, admin.length());
        String file = decode(tokens.path("data").path("tokens").asText());
        assertTrue(file.contains(admin + " admin admin read:* write:*"), "the file holds the admin token");
        io.raftkv.auth.Credentials parsed = io.raftkv.auth.Credentials.parse(file); // the server would take it
        assertEquals("admin", parsed.byToken(admin).name());
        assertTrue(RenderedChart.render(RELEASE, NS).template().named("Secret", "rk-raftkv-auth").path("data")
                .path("admin-token").asText().length() > 0);

        JsonNode tls = chart.named("Secret", "rk-raftkv-tls");
        assertEquals("kubernetes.io/tls", tls.path("type").asText());
        java.security.cert.CertificateFactory cf = java.security.cert.CertificateFactory.getInstance("X.509");
        java.security.cert.X509Certificate cert = (java.security.cert.X509Certificate) cf.generateCertificate(
                new java.io.ByteArrayInputStream(decode(tls.path("data").path("tls.crt").asText()).getBytes()));
        java.security.cert.X509Certificate ca = (java.security.cert.X509Certificate) cf.generateCertificate(
                new java.io.ByteArrayInputStream(decode(tls.path("data").path("ca.crt").asText()).getBytes()));
        cert.verify(ca.getPublicKey()); // signed by the CA clients are told to trust
        List<String> sans = new ArrayList<>();
        cert.getSubjectAlternativeNames().forEach(san -> sans.add(String.valueOf(san.get(1))));
        assertTrue(sans.contains("rk-raftkv.kv-ns.svc.cluster.local"), sans.toString());
        assertTrue(sans.contains("*.rk-raftkv-headless.kv-ns.svc.cluster.local"), "the pods, for the redirects: " + sans);

        JsonNode client = chart.named("Service", FULLNAME);
        assertEquals("https", client.path("spec").path("ports").get(1).path("targetPort").asText());
        assertEquals(8443, client.path("spec").path("ports").get(1).path("port").asInt());
        assertTrue(chart.named("Service", "rk-raftkv-headless").path("spec").path("ports").findValues("port").stream()
                .anyMatch(p -> p.asInt() == 8443), "the pods' https port, for the redirects");

        String notes = RenderedChart.render(RELEASE, NS).notes();
        assertTrue(notes.contains("get secret rk-raftkv-auth -o jsonpath='{.data.admin-token}'"), notes);
        assertTrue(notes.contains("--cacert raftkv-ca.crt"), notes);
    }

    @Test
    void givenSecretsAndSwitchesOff() {
        RenderedChart given = RenderedChart.render(RELEASE, NS).set("auth.existingSecret", "my-tokens")
                .set("auth.secretKey", "file").set("clientTls.existingSecret", "my-cert")
                .set("clientTls.clientCaSecret", "my-ca").set("auth.metricsOpen", false).template();
        assertTrue(given.ofKind("Secret").isEmpty(), "no Secret is made when both are given");
        Map<String, JsonNode> env = env(given.container());
        assertEquals("/etc/raftkv/client-ca/ca.crt", env.get("QUARKUS_HTTP_SSL_CERTIFICATE_TRUST_STORE_FILE").path("value").asText());
        assertEquals("PEM", env.get("QUARKUS_HTTP_SSL_CERTIFICATE_TRUST_STORE_FILE_TYPE").path("value").asText());
        assertEquals("false", env.get("RAFTKV_AUTH_METRICS_OPEN").path("value").asText());
        JsonNode volumes = given.one("StatefulSet").path("spec").path("template").path("spec").path("volumes");
        Map<String, JsonNode> byName = new java.util.HashMap<>();
        volumes.forEach(v -> byName.put(v.path("name").asText(), v.path("secret")));
        assertEquals("my-tokens", byName.get("auth").path("secretName").asText());
        assertEquals("file", byName.get("auth").path("items").get(0).path("key").asText());
        assertEquals("my-cert", byName.get("client-tls").path("secretName").asText());
        assertEquals("my-ca", byName.get("client-ca").path("secretName").asText());

        RenderedChart off = RenderedChart.render(RELEASE, NS).set("auth.enabled", false).set("clientTls.enabled", false).template();
        assertTrue(off.ofKind("Secret").isEmpty());
        Map<String, JsonNode> offEnv = env(off.container());
        assertFalse(offEnv.containsKey("RAFTKV_AUTH_TOKENS_FILE") || offEnv.containsKey("QUARKUS_HTTP_SSL_PORT"), offEnv.toString());
        assertEquals(1, off.named("Service", FULLNAME).path("spec").path("ports").size());
        String notes = RenderedChart.render(RELEASE, NS).set("auth.enabled", false).set("clientTls.enabled", false).notes();
        assertTrue(notes.contains("WARNING: auth.enabled=false") && notes.contains("http://rk-raftkv." + NS), notes);
        JsonNode pod = RenderedChart.render(RELEASE, NS).set("auth.enabled", false).set("clientTls.enabled", false)
                .templateWithTestHooks().one("Pod");
        assertEquals("http://rk-raftkv." + NS + ".svc.cluster.local:8080",
                env(pod.path("spec").path("containers").get(0)).get("RAFTKV_URL").path("value").asText());

        String extra = decode(RenderedChart.render(RELEASE, NS)
                .values("auth:\n  extraTokenLines:\n    - \"sha256:" + "ab".repeat(32) + " app read:app/\"\n")
                .template().named("Secret", "rk-raftkv-auth").path("data").path("tokens").asText());
        assertTrue(extra.endsWith("sha256:" + "ab".repeat(32) + " app read:app/\n"), extra);
    }

    private static String decode(String base64) {
        return new String(java.util.Base64.getDecoder().decode(base64), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Test
    void helmTestHookWritesThroughTheClientServiceAndReadsBack() throws Exception {
        String source = Files.readString(RenderedChart.CHART.resolve("templates/tests/test-put-get.yaml"));
        assertTrue(source.contains("helm.sh/hook: test"), "the pod is a `helm test` hook");
        assertTrue(RenderedChart.render(RELEASE, NS).template().ofKind("Pod").isEmpty(), "hooks are not release manifests");

        RenderedChart chart = RenderedChart.render(RELEASE, NS).set("service.httpsPort", 9000).templateWithTestHooks();
        JsonNode pod = chart.one("Pod");
        assertEquals("Never", pod.path("spec").path("restartPolicy").asText());
        JsonNode c = pod.path("spec").path("containers").get(0);
        assertEquals("curlimages/curl:8.11.1", c.path("image").asText());
        assertEquals("https://rk-raftkv." + NS + ".svc.cluster.local:9000", env(c).get("RAFTKV_URL").path("value").asText());
        String script = c.path("args").get(0).asText();
        // --location-trusted: curl -L would not send the token on to the leader's (other) host name
        assertTrue(script.contains("curl -fsS --location-trusted") && script.contains("-X PUT")
                && script.contains("--data-binary"), script);
        assertTrue(script.contains("[ \"$got\" != \"$value\" ]"), "compares what it read with what it wrote");
        assertTrue(script.contains("--cacert /etc/raftkv/tls/ca.crt") && script.contains("Authorization: Bearer"), script);
        assertEquals("admin-token", env(c).get("RAFTKV_TOKEN").path("valueFrom").path("secretKeyRef").path("key").asText());
        assertEquals("ca.crt", pod.path("spec").path("volumes").get(0).path("secret").path("items").get(0).path("key").asText());
        // Kubernetes expands $(VAR) and $$ in command and args: the script must not depend on either.
        assertFalse(script.contains("$(") || script.contains("$$"), script);
        assertTrue(c.path("securityContext").path("readOnlyRootFilesystem").asBoolean(), "read-only root");
        assertEquals(List.of("ALL"), texts(c.path("securityContext").path("capabilities").path("drop")));

        String image = RenderedChart.render(RELEASE, NS).set("tests.image.repository", "mirror.example/curl").set("tests.image.tag", "8")
                .templateWithTestHooks().one("Pod").path("spec").path("containers").get(0).path("image").asText();
        assertEquals("mirror.example/curl:8", image);
        assertTrue(RenderedChart.render(RELEASE, NS).set("tests.enabled", false).templateWithTestHooks().ofKind("Pod").isEmpty());
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static String expectedPeers(int n, String domain) {
        List<String> peers = new ArrayList<>();
        IntStream.range(0, n).forEach(i -> peers.add(FULLNAME + "-" + i + "=http://" + FULLNAME + "-" + i + "." + FULLNAME
                + "-headless." + NS + ".svc." + domain + ":8080"));
        return String.join(",", peers);
    }

    private static void assertSelects(JsonNode service, JsonNode podLabels) {
        JsonNode selector = service.path("spec").path("selector");
        assertFalse(selector.isEmpty(), "selector of " + service.path("metadata").path("name"));
        selector.fields().forEachRemaining(e -> assertEquals(e.getValue().asText(), podLabels.path(e.getKey()).asText(),
                service.path("metadata").path("name").asText() + " selects " + e.getKey()));
    }

    private static void assertProbe(JsonNode container, String probe, String path) {
        JsonNode get = container.path(probe).path("httpGet");
        assertEquals(path, get.path("path").asText(), probe);
        assertEquals("http", get.path("port").asText(), probe);
    }

    private static int namedPort(JsonNode container, String name) {
        for (JsonNode p : container.path("ports")) {
            if (name.equals(p.path("name").asText())) {
                return p.path("containerPort").asInt();
            }
        }
        throw new AssertionError("no port named " + name);
    }

    private static String mountedVolume(JsonNode container, String mountPath) {
        for (JsonNode m : container.path("volumeMounts")) {
            if (mountPath.equals(m.path("mountPath").asText())) {
                return m.path("name").asText();
            }
        }
        throw new AssertionError("nothing mounted at " + mountPath);
    }

    private static boolean hasVolume(JsonNode podSpec, String name) {
        for (JsonNode v : podSpec.path("volumes")) {
            if (name.equals(v.path("name").asText())) {
                return true;
            }
        }
        return false;
    }

    /** The volume's source type (emptyDir, persistentVolumeClaim, ...). */
    private static String volumeSource(JsonNode podSpec, String name) {
        for (JsonNode v : podSpec.path("volumes")) {
            if (name.equals(v.path("name").asText())) {
                List<String> fields = new ArrayList<>();
                v.fieldNames().forEachRemaining(fields::add);
                fields.remove("name");
                assertEquals(1, fields.size(), v.toString());
                return fields.get(0);
            }
        }
        throw new AssertionError("no volume " + name);
    }

    private static JsonNode pick(JsonNode labels, Set<String> keys) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        labels.fields().forEachRemaining(e -> {
            if (keys.contains(e.getKey())) {
                out.set(e.getKey(), e.getValue());
            }
        });
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
