package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * raftkv.forward-writes=true on real processes: a client that never follows redirects writes through a follower and
 * gets the leader's answer (session duplicates included); a request already forwarded once is not forwarded again.
 */
class ForwardWritesIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final HttpClient NO_REDIRECTS = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(2)).build();

    private static HttpResponse<String> send(ProcessCluster c, String id, String method, String path, String body,
                                             String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(c.url(id) + path)).timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return NO_REDIRECTS.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aFollowerForwardsWritesToTheLeaderAndAnswersWithItsAnswer() throws Exception {
        Path root = Path.of("target/it-forward/" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3).env("RAFTKV_FORWARD_WRITES", "true")) {
            cluster.startAll();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            String f = followers.get(0);

            HttpResponse<String> put = send(cluster, f, "PUT", "/v1/kv/fw/a", "one");
            assertEquals(200, put.statusCode(), put.body());
            assertEquals(leader, put.headers().firstValue("Raftkv-Forwarded-To").orElse(null));
            assertEquals("one", send(cluster, leader, "GET", "/v1/kv/fw/a", null).body());

            // A session write through one follower, retried through the other: applied once, the retry a duplicate.
            String[] session = {"Raftkv-Client-Id", "fw-client", "Raftkv-Request-Seq", "1"};
            HttpResponse<String> first = send(cluster, f, "PUT", "/v1/kv/fw/once", "x", session);
            HttpResponse<String> retry = send(cluster, followers.get(1), "PUT", "/v1/kv/fw/once", "x", session);
            assertEquals(200, first.statusCode(), first.body());
            assertEquals(200, retry.statusCode(), retry.body());
            assertEquals("true", retry.headers().firstValue("Raftkv-Duplicate").orElse(null));
            // A key's version is the index of its last write: the retry's answer is the first one's, and so is the key's.
            String version = ProcessCluster.field(first.body(), "version");
            assertEquals(version, ProcessCluster.field(retry.body(), "version"));
            assertEquals(version, send(cluster, leader, "GET", "/v1/kv/fw/once", null).headers().firstValue("X-Raftkv-Version").orElse(null));

            // Conditional writes keep their query; deletes go the same way.
            assertEquals(409, send(cluster, f, "PUT", "/v1/kv/fw/a?ifVersion=7", "two").statusCode());
            HttpResponse<String> del = send(cluster, f, "DELETE", "/v1/kv/fw/a", null);
            assertEquals(200, del.statusCode(), del.body());
            assertEquals(404, send(cluster, leader, "GET", "/v1/kv/fw/a", null).statusCode());

            // One hop only: a request forwarded already is redirected, not forwarded again.
            HttpResponse<String> again = send(cluster, f, "PUT", "/v1/kv/fw/b", "v", "Raftkv-Forwarded-By", "someone");
            assertEquals(307, again.statusCode(), again.body());
            // Reads are not forwarded: linearizable reads still redirect.
            assertEquals(307, send(cluster, f, "GET", "/v1/kv/fw/once", null).statusCode());
            assertTrue(cluster.status(f).isPresent());
        }
    }
}
