package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The cluster view in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven through playwright-core by
 * src/test/ui/ui-browser.cjs) opens /ui on a node of a 3-process cluster with authentication on; the page asks for a
 * token, gets a read-only one (it shows the cluster, no transfer form), then an admin one; it names the leader, the
 * test SIGKILLs that leader (reopening the page on a survivor if it was served by it, where the token is asked for
 * again: another origin), and the page, without a reload, names a new, different leader and shows the killed member
 * unreachable; the screenshot goes to target/ui-screenshot.png. Then the transfer button moves leadership between
 * the survivors twice (so once from a page served by a follower, which forwards it to the leader) and the page
 * follows. Skipped when chromium or node is missing; scripts/browser-deps.sh installs them and playwright-core (make
 * test runs it first).
 */
class UiBrowserIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Path CHROMIUM = Path.of(System.getProperty("ui.chromium", "/usr/bin/chromium"));
    static final Path MODULES = Path.of("target/ui-browser/node_modules").toAbsolutePath();
    static final Path DRIVER = Path.of("src/test/ui/ui-browser.cjs").toAbsolutePath();
    static final Path SCREENSHOT = Path.of("target/ui-screenshot.png").toAbsolutePath();

    static final String ADMIN = "ui-admin-token-0123456789abcdef";
    static final String VIEWER = "ui-viewer-token-0123456789abcdef";
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    @TempDir
    Path root;

    @Test
    void thePageFollowsALeaderKillAndATransferLive() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM), "no Chromium at " + CHROMIUM + " (apt-get install chromium, or run"
                + " scripts/browser-deps.sh; -Dui.chromium=PATH for another): the browser test is skipped");
        assumeTrue(onPath("node"), "no node on the PATH (apt-get install nodejs, or run scripts/browser-deps.sh): the"
                + " browser test is skipped");
        assertTrue(Files.isRegularFile(MODULES.resolve("playwright-core/package.json")),
                "playwright-core is not installed in " + MODULES + ": run scripts/browser-deps.sh first");
        Path tokens = root.resolve("tokens");
        Files.writeString(tokens, ADMIN + "  ops     admin read:* write:*\n" + VIEWER + "  viewer  read:app/\n");
        try (ProcessCluster c = new ProcessCluster(root, 3); Browser b = new Browser(Path.of("target/ui-browser-it.log"))) {
            c.env("RAFTKV_AUTH_TOKENS_FILE", tokens.toString());
            c.startAll();
            List<String> ids = c.ids();
            String first = await("a leader every member names", Duration.ofSeconds(90), () -> leaderAllName(c, ids));

            String served = "node1";
            JsonNode opened = b.call(cmd("open").put("url", c.url(served) + "/ui"), Duration.ofSeconds(30));
            assertTrue(opened.path("title").asText().contains("raftkv"), opened.toString());
            // no token yet: the page asks for one; a read-only one shows the cluster but no transfer form
            b.call(cmd("waitState").put("state", "auth").put("timeoutMs", 20_000), Duration.ofSeconds(25));
            b.call(cmd("token").put("token", VIEWER).put("timeoutMs", 10_000), Duration.ofSeconds(15));
            JsonNode shown = b.call(cmd("waitLeader").put("timeoutMs", 30_000), Duration.ofSeconds(35));
            assertFalse(b.call(cmd("visible").put("selector", "#transfer-panel"), Duration.ofSeconds(10))
                    .path("visible").asBoolean(), "no transfer form for a principal without admin");
            b.call(cmd("token").put("token", ADMIN).put("timeoutMs", 10_000), Duration.ofSeconds(15));
            b.call(cmd("waitFor").put("selector", "#transfer-panel:not([hidden])").put("timeoutMs", 20_000),
                    Duration.ofSeconds(25));
            shown = b.call(cmd("waitLeader").put("timeoutMs", 30_000), Duration.ofSeconds(35));
            String leader = shown.path("leader").asText();
            assertEquals(first, leader, "the page names the leader the members name");
            for (String id : ids) {
                if (!id.equals(leader)) {
                    b.call(cmd("waitRole").put("member", id).put("role", "follower").put("timeoutMs", 20_000),
                            Duration.ofSeconds(25));
                }
            }

            c.kill(leader);
            long killedAt = System.nanoTime();
            List<String> survivors = new ArrayList<>(ids);
            survivors.remove(leader);
            if (served.equals(leader)) {
                served = survivors.get(0);
                b.call(cmd("open").put("url", c.url(served) + "/ui"), Duration.ofSeconds(30));
                // another origin, so another sessionStorage: the token is asked for again
                b.call(cmd("waitState").put("state", "auth").put("timeoutMs", 20_000), Duration.ofSeconds(25));
                b.call(cmd("token").put("token", ADMIN).put("timeoutMs", 10_000), Duration.ofSeconds(15));
            }
            JsonNode after = b.call(cmd("waitLeader").put("not", leader).put("timeoutMs", 30_000), Duration.ofSeconds(35));
            String next = after.path("leader").asText();
            assertNotEquals(leader, next);
            assertTrue(survivors.contains(next), next + " is one of " + survivors);
            assertTrue(after.path("term").asLong() > shown.path("term").asLong(), "a new term: " + shown + " -> " + after);
            b.call(cmd("waitRole").put("member", leader).put("role", "unreachable").put("timeoutMs", 20_000),
                    Duration.ofSeconds(25));
            System.out.printf("UiBrowserIT: the page served by %s showed %s leading after %s was killed, %d ms after the kill%n",
                    served, next, leader, (System.nanoTime() - killedAt) / 1_000_000);
            Files.deleteIfExists(SCREENSHOT);
            b.call(cmd("screenshot").put("path", SCREENSHOT.toString()), Duration.ofSeconds(30));
            assertTrue(Files.size(SCREENSHOT) > 10_000, "a screenshot of some size: " + Files.size(SCREENSHOT));

            // the transfer button: to the other survivor, twice (one of the two is sent to a follower, which forwards it)
            String current = next;
            for (int i = 0; i < 2; i++) {
                String target = survivors.get(0).equals(current) ? survivors.get(1) : survivors.get(0);
                JsonNode t = b.call(cmd("transfer").put("to", target).put("timeoutMs", 20_000), Duration.ofSeconds(25));
                String text = t.path("text").asText();
                assertTrue(text.startsWith("200 "), "the transfer's answer is shown: " + text);
                assertTrue(text.contains("\"to\": \"" + target + "\""), text);
                JsonNode moved = b.call(cmd("waitLeader").put("not", current).put("timeoutMs", 20_000),
                        Duration.ofSeconds(25));
                assertEquals(target, moved.path("leader").asText());
                current = target;
            }
        }
    }

    /** The leader, once the live members all name the same one and it says so itself (asked with the admin token). */
    static Optional<String> leaderAllName(ProcessCluster c, List<String> among) {
        List<String> named = new ArrayList<>();
        String leader = null;
        for (String id : among) {
            String body;
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(c.url(id) + "/v1/status"))
                        .header("Authorization", "Bearer " + ADMIN).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    return Optional.empty();
                }
                body = r.body();
            } catch (IOException e) {
                return Optional.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
            named.add(Waits.field(body, "leader"));
            if ("leader".equals(Waits.field(body, "role"))) {
                leader = id;
            }
        }
        String l = leader;
        return Optional.ofNullable(l).filter(x -> named.stream().allMatch(x::equals));
    }

    static ObjectNode cmd(String name) {
        return JSON.createObjectNode().put("cmd", name);
    }

    static boolean onPath(String exe) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, exe))) {
                return true;
            }
        }
        return false;
    }

    /** The node process that drives Chromium: one JSON command a line in, one JSON answer a line out. */
    static final class Browser implements AutoCloseable {
        private final Process process;
        private final Writer in;
        private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

        Browser(Path log) throws IOException {
            ProcessBuilder pb = new ProcessBuilder("node", DRIVER.toString());
            pb.environment().put("NODE_PATH", MODULES.toString());
            pb.environment().put("UI_CHROMIUM", CHROMIUM.toString());
            pb.redirectError(ProcessBuilder.Redirect.to(log.toFile()));
            process = pb.start();
            in = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        answers.add(line);
                    }
                } catch (IOException e) {
                    // the process ended
                }
                answers.add("{\"ok\":false,\"error\":\"the browser driver exited\"}");
            }, "ui-browser-reader");
            reader.setDaemon(true);
            reader.start();
        }

        /** Sends a command and waits for its answer; fails on an error answer or after {@code timeout}. */
        JsonNode call(ObjectNode command, Duration timeout) throws Exception {
            in.write(command.toString() + "\n");
            in.flush();
            String line = answers.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (line == null) {
                throw new AssertionError("no answer to " + command + " within " + timeout);
            }
            JsonNode a = JSON.readTree(line);
            if (!a.path("ok").asBoolean()) {
                throw new AssertionError(command.path("cmd").asText() + " failed: " + a.path("error").asText()
                        + " (page: " + a.path("page").asText() + ")");
            }
            return a;
        }

        @Override
        public void close() throws Exception {
            try {
                in.write("{\"cmd\":\"quit\"}\n");
                in.flush();
            } catch (IOException e) {
                // already gone
            }
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
