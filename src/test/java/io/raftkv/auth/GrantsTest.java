package io.raftkv.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.util.List;
import java.util.Map;

/** Grant parsing and matching, the rule table, the tokens file format and the redirect URL rule, without a server. */
class GrantsTest {

    private static Principal principal(String... grants) {
        return new Principal("p", java.util.Arrays.stream(grants).map(Grant::parse).toList(), Principal.Source.TOKEN);
    }

    private static Access access(String method, String path, Map<String, String> query) {
        String key = path.startsWith("/v1/kv/") ? path.substring(7) : null;
        return AccessRules.required(new AccessRules.Request(method, path, key, query::get));
    }

    @Test
    void grantsParseAndMatchByPrefix() {
        assertEquals(new Grant(Grant.Role.READ, "app/"), Grant.parse("read:app/"));
        assertEquals(new Grant(Grant.Role.READ, "app/"), Grant.parse("read:app/*"));
        assertEquals(new Grant(Grant.Role.WRITE, ""), Grant.parse("write:*"));
        assertEquals("read:*", Grant.parse("read:*").toString());
        assertEquals("admin", Grant.parse("admin").toString());
        for (String bad : List.of("read", "read:", "write:a*b", "delete:x", "admin:x", "readwrite:app/", "*")) {
            assertThrows(IllegalArgumentException.class, () -> Grant.parse(bad), bad);
        }
        Grant g = Grant.parse("read:app/");
        assertTrue(g.allows(Grant.Role.READ, "app/x"));
        assertTrue(g.allows(Grant.Role.READ, "app/"));
        assertFalse(g.allows(Grant.Role.READ, "app"));
        assertFalse(g.allows(Grant.Role.READ, "apple"));
        assertFalse(g.allows(Grant.Role.WRITE, "app/x"), "read does not allow write");
        assertTrue(Grant.parse("read:app").allows(Grant.Role.READ, "apple"), "a prefix is a plain string prefix");
        assertTrue(Grant.parse("write:*").allows(Grant.Role.WRITE, ""));
    }

    @Test
    void principalsNeedTheGrantTheRuleAsksFor() {
        Principal app = principal("read:app/", "write:app/config/");
        assertTrue(app.may(access("GET", "/v1/kv/app/x", Map.of())));
        assertFalse(app.may(access("GET", "/v1/kv/other", Map.of())));
        assertTrue(app.may(access("PUT", "/v1/kv/app/config/a", Map.of())));
        assertTrue(app.may(access("DELETE", "/v1/kv/app/config/a", Map.of())));
        assertFalse(app.may(access("PUT", "/v1/kv/app/x", Map.of())));
        // listings: the prefix must lie inside a read grant
        assertTrue(app.may(access("GET", "/v1/kv", Map.of("prefix", "app/config/"))));
        assertFalse(app.may(access("GET", "/v1/kv", Map.of("prefix", "ap"))));
        assertFalse(app.may(access("GET", "/v1/kv", Map.of())), "listing everything needs read:*");
        assertTrue(principal("read:*").may(access("GET", "/v1/kv", Map.of())));
        // watch (GET /v1/watch?prefix=) like a listing
        assertTrue(app.may(access("GET", "/v1/watch", Map.of("prefix", "app/"))));
        assertFalse(app.may(access("GET", "/v1/watch", Map.of("prefix", "b/"))));
        // any principal: status, reading the membership
        assertTrue(app.may(access("GET", "/v1/status", Map.of())));
        assertTrue(app.may(access("GET", "/v1/members", Map.of())));
        // admin only
        for (String[] r : new String[][]{{"POST", "/v1/members"}, {"DELETE", "/v1/members/n2"},
                {"POST", "/v1/members/n2/promote"}, {"POST", "/v1/leader/transfer"}, {"POST", "/v1/snapshot"},
                {"GET", "/v1/log"}, {"GET", "/v1/something-new"}}) {
            assertEquals(Access.ADMIN, access(r[0], r[1], Map.of()), r[1]);
            assertFalse(app.may(access(r[0], r[1], Map.of())), r[1]);
            assertTrue(principal("admin").may(access(r[0], r[1], Map.of())), r[1]);
        }
        // the cluster view's stream and a node's event lines: the read role, a read grant on any prefix
        for (String path : List.of("/v1/cluster/stream", "/v1/events")) {
            assertEquals(Access.READ_ROLE, access("GET", path, Map.of()), path);
            assertTrue(app.may(access("GET", path, Map.of())), path);
            assertTrue(principal("read:*").may(access("GET", path, Map.of())), path);
            assertFalse(principal("write:*").may(access("GET", path, Map.of())), path + ": write is not read");
            assertFalse(principal("admin").may(access("GET", path, Map.of())), path + ": admin alone reads nothing");
            assertEquals(Access.ADMIN, access("POST", path, Map.of()), "POST " + path + ": no rule, admin");
        }
        assertEquals(Access.ADMIN, access("GET", "/v1/cluster", Map.of()), "only the stream is named");
        assertFalse(principal("admin").may(access("GET", "/v1/kv/x", Map.of())), "admin alone reads no keys");
        assertFalse(principal("write:*").may(access("GET", "/v1/kv/x", Map.of())), "write alone reads no keys");
    }

    @Test
    void probesAndTheApiDescriptionAreOpen() {
        assertFalse(AccessRules.open("/raft/messages"), "no peer endpoint on the client port any more: admin-only if one appeared");
        assertTrue(AccessRules.open("/q/openapi"));
        assertTrue(AccessRules.open("/q/health"));
        assertTrue(AccessRules.open("/q/health/ready"));
        assertFalse(AccessRules.open("/q/metrics"));
        assertFalse(AccessRules.open("/v1/status"));
        assertFalse(AccessRules.open("/v1/kv/raft/x"));
        assertFalse(AccessRules.open("/raftx"));
        // the cluster view's page itself (no data in it); its stream is not open
        assertTrue(AccessRules.open("/ui"));
        assertTrue(AccessRules.open("/ui/"));
        assertTrue(AccessRules.open("/ui/ui.js"));
        assertFalse(AccessRules.open("/uix"));
        assertFalse(AccessRules.open("/v1/cluster/stream"));
        assertFalse(AccessRules.open("/v1/events"));
        assertEquals(Access.ADMIN, AccessRules.required(new AccessRules.Request("POST", "/ui/x", null, q -> null)),
                "only reads of the page are open");
    }

    @Test
    void tokensFileFormat() {
        String hashed = Credentials.hex(Credentials.sha256("hashed-token-0123456789"));
        Credentials c = Credentials.parse("""
                # a comment, then a blank line

                admin-token-0123456789   ops    admin read:* write:*
                sha256:%s  app  read:app/,write:app/config/
                client-cert  billing.example  read:billing/
                """.formatted(hashed));
        assertEquals(2, c.tokenCount());
        assertEquals(1, c.certPrincipalCount());
        Principal ops = c.byToken("admin-token-0123456789");
        assertEquals("ops", ops.name());
        assertEquals(3, ops.grants().size());
        Principal app = c.byToken("hashed-token-0123456789");
        assertEquals("app", app.name());
        assertEquals(List.of(Grant.parse("read:app/"), Grant.parse("write:app/config/")), app.grants());
        assertNull(c.byToken("admin-token-012345678"));
        assertNull(c.byToken(""));
        assertNull(c.byToken("client-cert"), "client-cert is no token");
        assertEquals("billing.example", c.byCertificateNames(List.of("x", "billing.example")).name());
        assertNull(c.byCertificateNames(List.of("ops")));
    }

    @Test
    void badTokensFilesAreRefusedNamingTheLineNotTheToken() {
        String secret = "a-secret-token-0123456789";
        for (String bad : List.of(secret + " ops", secret + " ops delete:x", "short-token ops admin",
                secret + " ops admin\n" + secret + " other admin", secret + " bad!name admin",
                "sha256:abc ops admin", "client-cert a admin\nclient-cert a read:*")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Credentials.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("line "), e.getMessage());
            assertFalse(e.getMessage().contains(secret), e.getMessage());
        }
        assertEquals(0, Credentials.parse("# nobody\n").tokenCount());
    }

    @Test
    void redirectsPointAtTheHttpsPortOfTheLeader() {
        URI member = URI.create("http://raftkv-1.raftkv-headless.ns.svc.cluster.local:8080");
        assertEquals(member, ClientTls.clientUrl(member, 8080, -1), "no HTTPS: unchanged");
        assertEquals(URI.create("https://raftkv-1.raftkv-headless.ns.svc.cluster.local:8443"),
                ClientTls.clientUrl(member, 8080, 8443));
        assertEquals(URI.create("https://127.0.0.1:8442"), ClientTls.clientUrl(URI.create("http://127.0.0.1:8002"), 8001, 8441),
                "the same offset as this node's");
        URI already = URI.create("https://h:9000");
        assertEquals(already, ClientTls.clientUrl(already, 8080, 8443));
    }
}
