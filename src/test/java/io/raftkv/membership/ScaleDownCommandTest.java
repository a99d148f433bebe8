package io.raftkv.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code raftkv scale-down} against two fake members: the endpoint it is given (the Service's name, as the chart's
 * hook uses) reaches a member that was just removed and knows no leader; the command asks the members that one
 * names, finds the leader, and removes the highest ordinals from there.
 */
class ScaleDownCommandTest {

    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private final List<String> deleted = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    private HttpServer server() throws Exception {
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        servers.add(s);
        return s;
    }

    private static void answer(com.sun.net.httpserver.HttpExchange ex, int status, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @Test
    void anEndpointThatKnowsNoLeaderLeadsToTheMembersItNames() throws Exception {
        HttpServer leader = server();
        HttpServer removed = server();
        String leaderUrl = "http://127.0.0.1:" + leader.getAddress().getPort();
        leader.createContext("/v1/members", ex -> {
            if (ex.getRequestMethod().equals("DELETE")) {
                String id = ex.getRequestURI().getPath().substring("/v1/members/".length());
                deleted.add(id);
                answer(ex, 200, "{\"change\":\"REMOVE\",\"id\":\"" + id + "\"}");
                return;
            }
            StringBuilder members = new StringBuilder();
            for (String id : List.of("rk-0", "rk-1", "rk-2", "rk-3", "rk-4")) {
                if (!deleted.contains(id)) {
                    members.append(members.isEmpty() ? "" : ",").append("{\"id\":\"").append(id).append("\",\"role\":\"voter\"}");
                }
            }
            answer(ex, 200, "{\"leader\":\"rk-0\",\"members\":[" + members + "]}");
        });
        // A member just removed from the configuration: its pod still answers, it knows no leader, it names the others.
        removed.createContext("/v1/members", ex -> answer(ex, 200, "{\"leader\":null,\"members\":[{\"id\":\"rk-0\",\"url\":\""
                + leaderUrl + "\",\"role\":\"voter\"},{\"id\":\"rk-4\",\"url\":\"http://127.0.0.1:1\",\"role\":\"voter\"}]}"));
        leader.start();
        removed.start();

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = ScaleDownCommand.run(new String[] {"--endpoints", "http://127.0.0.1:" + removed.getAddress().getPort(),
                "--prefix", "rk-", "--keep", "3", "--timeout", "20s"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, printed);
        assertEquals(List.of("rk-4", "rk-3"), deleted, "highest ordinal first, at the leader found through the members");
        assertTrue(printed.contains("no member with an ordinal of 3 or more"), printed);
    }
}
