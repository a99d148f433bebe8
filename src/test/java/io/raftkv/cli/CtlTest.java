package io.raftkv.cli;

import static io.restassured.RestAssured.given;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.junit.QuarkusTest;
import io.raftkv.snapshot.SnapshotFileReader;
import io.raftkv.snapshot.SnapshotHeader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/** raftkvctl against a real (single-node) cluster: every command, its output and exit status, and bad input. */
@QuarkusTest
class CtlTest {

    static final Map<String, String> ENV = Map.of("RAFTKV_ENDPOINTS", "http://localhost:8081");
    static final ObjectMapper JSON = new ObjectMapper();
    private String p;

    @BeforeEach
    void leader() throws InterruptedException {
        p = "ctl-" + UUID.randomUUID().toString().substring(0, 8) + "/";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!"leader".equals(given().get("/v1/status").jsonPath().getString("role"))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no leader");
            }
            Thread.sleep(20);
        }
    }

    static CtlRun ctl(String... args) {
        return CtlRun.of(ENV, args);
    }

    static CtlRun ok(String... args) {
        CtlRun r = ctl(args);
        assertEquals(0, r.status(), r.toString());
        return r;
    }

    @Test
    void putGetDelAndConditions() throws Exception {
        CtlRun put = ok("put", p + "a", "hello");
        assertTrue(put.out().matches("OK " + p + "a version \\d+ \\(index \\d+, term \\d+\\)\\n"), put.out());
        assertEquals("hello\n", ok("get", p + "a").out());
        assertEquals("hello\n", ok("get", p + "a", "--stale").out());
        JsonNode j = JSON.readTree(ok("get", p + "a", "-o", "json").out());
        assertEquals("hello", j.get("value").asText());
        long version = j.get("version").asLong();

        CtlRun conflict = ctl("put", p + "a", "x", "--if-version", String.valueOf(version + 1000));
        assertEquals(Ctl.EXIT_CONFLICT, conflict.status(), conflict.toString());
        assertTrue(conflict.err().contains("409"), conflict.err());
        ok("put", p + "a", "second", "--if-version", String.valueOf(version));
        ok("put", p + "a", "third", "--if-value", "second");
        assertEquals(Ctl.EXIT_CONFLICT, ctl("del", p + "a", "--if-value", "nope").status());

        assertTrue(ok("del", p + "a").out().startsWith("deleted " + p + "a (index "));
        assertTrue(ok("del", p + "a").out().startsWith(p + "a did not exist"));
        CtlRun missing = ctl("get", p + "a");
        assertEquals(Ctl.EXIT_NOT_FOUND, missing.status());
        assertTrue(missing.err().contains("no such key: " + p + "a"), missing.err());
        assertEquals("", missing.out());

        Path f = Files.createTempFile("ctl", ".bin");
        Files.write(f, new byte[] {0, (byte) 0xff, 1});
        ok("put", p + "bin", "--file", f.toString());
        assertEquals("AP8B", JSON.readTree(ok("get", p + "bin", "-o", "json").out()).get("valueBase64").asText());
        JsonNode pj = JSON.readTree(ok("put", p + "k y", "spaced", "-o", "json").out());
        assertEquals(p + "k y", pj.get("key").asText());
        assertEquals("spaced\n", ok("get", p + "k y").out());
    }

    @Test
    void listInATableOrJson() throws Exception {
        ok("put", p + "b", "22");
        ok("put", p + "a", "1");
        String[] lines = ok("list", p).out().split("\n");
        assertEquals(3, lines.length, String.join("\n", lines));
        assertTrue(lines[0].matches("KEY\\s+VERSION\\s+SIZE"), lines[0]);
        assertTrue(lines[1].matches(p + "a\\s+\\d+\\s+1"), lines[1]);
        assertTrue(lines[2].matches(p + "b\\s+\\d+\\s+2"), lines[2]);
        CtlRun limited = ok("list", p, "--limit", "1", "-o", "json");
        JsonNode j = JSON.readTree(limited.out());
        assertEquals(1, j.get("keys").size());
        assertTrue(j.get("more").asBoolean());
        assertTrue(ok("list", p, "--limit", "1").err().contains("more keys follow"));
    }

    @Test
    void watchPrintsChangesFromAnIndex() throws Exception {
        long first = JSON.readTree(ok("put", p + "w", "1", "-o", "json").out()).get("index").asLong();
        ok("put", p + "w", "2");
        ok("del", p + "w");
        CtlRun w = ok("watch", p, "--from-index", String.valueOf(first), "--count", "3");
        String[] lines = w.out().split("\n");
        assertEquals(3, lines.length, w.toString());
        assertEquals("PUT " + p + "w = 1  (version " + first + ", index " + first + ")", lines[0]);
        assertTrue(lines[1].startsWith("PUT " + p + "w = 2  (version "), lines[1]);
        assertTrue(lines[2].startsWith("DELETE " + p + "w  (index "), lines[2]);
        JsonNode j = JSON.readTree(ok("watch", p, "--from-index", String.valueOf(first), "--count", "1", "-o", "json",
                "--no-values").out());
        assertEquals("put", j.get("type").asText());
        assertTrue(!j.has("value"));
    }

    @Test
    void statusMembersAndCheck() throws Exception {
        String[] status = ok("status").out().split("\n");
        assertTrue(status[0].matches("ID\\s+URL\\s+ROLE\\s+TERM\\s+LEADER\\s+COMMIT\\s+APPLIED\\s+FIRST\\s+LAG\\s+DB SIZE\\s+LOG SIZE"), status[0]);
        assertTrue(status[1].matches("node1\\s+http://localhost:8081\\s+leader\\s+\\d+\\s+node1\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\s+.*"), status[1]);
        JsonNode js = JSON.readTree(ok("status", "-o", "json").out());
        assertEquals("node1", js.get(0).get("id").asText());
        assertEquals("leader", js.get(0).get("role").asText());
        assertTrue(js.get(0).get("kvBytes").asLong() > 0);

        String[] members = ok("members", "list").out().split("\n");
        assertTrue(members[1].matches("node1\\s+http://127.0.0.1:8081\\s+voter\\s+\\*"), members[1]);

        CtlRun check = ok("check");
        assertTrue(check.out().contains("node1") && check.out().contains("healthy")
                && check.out().contains("cluster is healthy (leader node1)"), check.out());
        assertTrue(JSON.readTree(ok("check", "-o", "json").out()).get("healthy").asBoolean());
    }

    @Test
    void membershipAndLeadershipRefusalsAreErrors() {
        CtlRun badUrl = ctl("members", "add", "n9", "not a url");
        assertEquals(Ctl.EXIT_FAILED, badUrl.status(), badUrl.toString());
        assertTrue(badUrl.err().contains("400"), badUrl.err());
        assertEquals(Ctl.EXIT_FAILED, ctl("members", "remove", "nobody").status());
        assertEquals(Ctl.EXIT_FAILED, ctl("members", "promote", "node1").status());
        CtlRun transfer = ctl("leader", "transfer");
        assertEquals(Ctl.EXIT_CONFLICT, transfer.status(), transfer.toString()); // one node: nobody to hand to
        assertEquals(Ctl.EXIT_USAGE, ctl("members", "dance").status());
        assertEquals(Ctl.EXIT_USAGE, ctl("members").status());
        assertEquals(Ctl.EXIT_USAGE, ctl("leader").status());
    }

    @Test
    void snapshotSaveDownloadsAVerifiedSnapshotFromTheLeader() throws Exception {
        ok("put", p + "snap", "in the snapshot");
        Path file = Files.createTempDirectory("ctl").resolve("backup.snap");
        CtlRun r = ok("snapshot", "save", file.toString());
        assertTrue(r.out().startsWith("saved snapshot at index "), r.out());
        SnapshotHeader h = SnapshotFileReader.verify(file);
        assertTrue(h.keyCount() >= 1);
        try (SnapshotFileReader in = SnapshotFileReader.open(file)) {
            boolean found = false;
            for (var e = in.next(); e != null; e = in.next()) {
                found |= e.key().equals(p + "snap");
            }
            assertTrue(found, "the snapshot holds the key written before it");
        }
        assertTrue(!Files.exists(file.resolveSibling("backup.snap.part")));
        assertEquals(Ctl.EXIT_USAGE, ctl("snapshot", "save", "/nonexistent-dir/x.snap").status());
        assertEquals(Ctl.EXIT_USAGE, ctl("snapshot", "load", "x").status());
    }

    @Test
    void endpointsFailOverAndUnreachableClustersExit3() {
        CtlRun r = CtlRun.of(Map.of(), "--endpoints", "http://127.0.0.1:1,http://localhost:8081", "put", p + "f", "v");
        assertEquals(0, r.status(), r.toString());
        CtlRun down = CtlRun.of(Map.of(), "--endpoints", "http://127.0.0.1:1", "--timeout", "1s", "get", p + "f");
        assertEquals(Ctl.EXIT_UNAVAILABLE, down.status(), down.toString());
        assertTrue(down.err().contains("unreachable"), down.err());
    }

    @Test
    void badInputIsAUsageError() {
        for (String[] args : new String[][] {
                {"frobnicate"}, {"put", "k"}, {"put"}, {"get"}, {"get", "a", "b"}, {"list", "--limit", "0"},
                {"list", "--limit", "x"}, {"get", "k", "--timeout", "soon"}, {"get", "k", "-o", "xml"},
                {"get", "k", "--bogus"}, {"put", "", "v"}, {"get", "k", "--endpoints", "ftp://x"}, {"watch", "--from-index", "-3"},
                {"put", "k", "v", "--if-version", "-1"}, {"get", "k", "--cacert", "/nonexistent.pem"}}) {
            CtlRun r = ctl(args);
            assertEquals(Ctl.EXIT_USAGE, r.status(), String.join(" ", args) + ": " + r);
            assertTrue(r.err().startsWith("raftkvctl: "), r.err());
        }
        assertEquals(Ctl.EXIT_USAGE, ctl().status());
    }

    @Test
    void everyCommandHasHelp() {
        CtlRun all = ok("--help");
        for (String cmd : Ctl.HELP.keySet()) {
            assertTrue(all.out().contains("  " + cmd), cmd);
            CtlRun h = ok(cmd, "--help");
            assertTrue(h.out().startsWith("usage: raftkvctl [options] " + cmd), h.out());
            assertTrue(h.out().contains("Exit status: 0 ok"), h.out());
            assertEquals(h.out(), ok("help", cmd).out());
        }
    }
}
