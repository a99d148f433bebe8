package io.raftkv.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client's retry rules against scripted HTTP servers: redirects to the leader are followed with the body, a
 * write retried after a 503 or 504 carries the same session headers, other changes are not retried after a 504, and
 * the token goes with every request.
 */
class CtlRetryTest {

    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private final List<String> seen = new CopyOnWriteArrayList<>();

    interface Handler {
        void handle(HttpExchange x, int call) throws IOException;
    }

    private String serve(Handler h) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        AtomicInteger calls = new AtomicInteger();
        s.createContext("/", x -> {
            String body = new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(s.getAddress().getPort() + " " + x.getRequestMethod() + " " + x.getRequestURI() + " body=" + body
                    + " client=" + x.getRequestHeaders().getFirst("Raftkv-Client-Id") + " seq="
                    + x.getRequestHeaders().getFirst("Raftkv-Request-Seq") + " auth="
                    + x.getRequestHeaders().getFirst("Authorization"));
            h.handle(x, calls.incrementAndGet());
            x.close();
        });
        s.start();
        servers.add(s);
        return "http://127.0.0.1:" + s.getAddress().getPort();
    }

    private static void answer(HttpExchange x, int status, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().add("Content-Type", status >= 400 ? "application/problem+json" : "application/json");
        x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        x.getResponseBody().write(b);
    }

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    @Test
    void aWriteFollowsTheRedirectAndRetriesWithTheSameSession() throws Exception {
        String leader = serve((x, call) -> {
            if (call == 1) {
                answer(x, 504, "{\"title\":\"Gateway Timeout\",\"detail\":\"outcome unknown\"}");
            } else {
                answer(x, 200, "{\"key\":\"k\",\"version\":7,\"index\":7,\"term\":2}");
            }
        });
        String follower = serve((x, call) -> {
            x.getResponseHeaders().add("Location", leader + x.getRequestURI());
            x.sendResponseHeaders(307, -1);
        });
        CtlRun r = CtlRun.of(Map.of("RAFTKV_TOKEN", "s3cret"), "--endpoints", "http://127.0.0.1:1," + follower, "put", "k", "v");
        assertEquals(0, r.status(), r + "\n" + seen);
        assertEquals("OK k version 7 (index 7, term 2)\n", r.out());
        // follower -> leader (504), then the retry: follower -> leader again; one session, one sequence number
        assertEquals(4, seen.size(), seen.toString());
        String session = seen.get(0).substring(seen.get(0).indexOf(" client="));
        for (String s : seen) {
            assertTrue(s.contains("PUT /v1/kv/k body=v"), s);
            assertTrue(s.endsWith(session), "same session headers on every attempt: " + seen);
            assertTrue(s.contains("auth=Bearer s3cret"), s);
        }
        assertTrue(session.contains("client=raftkvctl-") && session.contains("seq=1"), session);
    }

    @Test
    void aChangeIsNotRetriedWhenItsOutcomeIsUnknown() throws Exception {
        String node = serve((x, call) -> answer(x, 504, "{\"title\":\"Gateway Timeout\",\"detail\":\"not taken over\"}"));
        CtlRun r = CtlRun.of(Map.of(), "--endpoints", node, "leader", "transfer", "n2");
        assertEquals(Ctl.EXIT_UNAVAILABLE, r.status(), r.toString());
        assertEquals(1, seen.size(), seen.toString());
        assertTrue(seen.get(0).contains("POST /v1/leader/transfer?to=n2"), seen.get(0));
        assertTrue(r.err().contains("504 Gateway Timeout: not taken over"), r.err());
    }

    @Test
    void aReadRetriesAcrossEndpointsOn503UntilItsTimeout() throws Exception {
        String busy = serve((x, call) -> answer(x, 503, "{\"title\":\"Service Unavailable\",\"detail\":\"no leader\"}"));
        String good = serve((x, call) -> {
            x.getResponseHeaders().add("X-Raftkv-Version", "3");
            answer(x, 200, "value");
        });
        CtlRun r = CtlRun.of(Map.of(), "--endpoints", busy + "," + good, "get", "a/b c");
        assertEquals(0, r.status(), r.toString());
        assertEquals("value\n", r.out());
        assertTrue(seen.get(1).contains("GET /v1/kv/a/b%20c"), seen.toString());
        CtlRun stuck = CtlRun.of(Map.of(), "--endpoints", busy, "--timeout", "600ms", "get", "k");
        assertEquals(Ctl.EXIT_UNAVAILABLE, stuck.status(), stuck.toString());
        assertNotNull(stuck.err());
        assertTrue(stuck.err().contains("no leader"), stuck.err());
    }

    @Test
    void aSessionWhoseFirstWriteFailedStartsAfreshAndAKnownOneCountsOn() throws Exception {
        // 503 until the client gave up, then 200: the first write certainly had no effect, but a second write with
        // sequence 2 of a session the cluster never saw would be refused (422); it must start a new session at 1.
        java.util.concurrent.atomic.AtomicBoolean up = new java.util.concurrent.atomic.AtomicBoolean();
        String node = serve((x, call) -> {
            if (up.get()) {
                answer(x, 200, "{\"key\":\"k\",\"version\":" + call + ",\"index\":" + call + ",\"term\":1}");
            } else {
                answer(x, 503, "{\"title\":\"Service Unavailable\",\"detail\":\"no leader\"}");
            }
        });
        CtlClient client = new CtlClient(java.util.List.of(java.net.URI.create(node)), null, null,
                java.time.Duration.ofMillis(300));
        assertThrows(CtlException.class, () -> client.write("PUT", "/v1/kv/k", "1".getBytes(StandardCharsets.UTF_8)));
        String failed = session(seen.get(0));
        assertTrue(failed.endsWith("seq=1"), failed);
        up.set(true);
        seen.clear();
        assertEquals(200, client.write("PUT", "/v1/kv/k", "2".getBytes(StandardCharsets.UTF_8)).status());
        assertEquals(200, client.write("PUT", "/v1/kv/k", "3".getBytes(StandardCharsets.UTF_8)).status());
        String second = session(seen.get(0));
        String third = session(seen.get(1));
        assertTrue(second.endsWith("seq=1") && !second.equals(failed), "a new session from 1: " + second + " after " + failed);
        assertEquals(second.replace("seq=1", "seq=2"), third, "the known session counts on");
    }

    private static String session(String seenLine) {
        return seenLine.substring(seenLine.indexOf(" client="), seenLine.indexOf(" auth="));
    }
}
