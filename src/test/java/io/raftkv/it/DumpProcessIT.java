package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The offline dump of the packaged artifact ({@code java -jar quarkus-run.jar dump}) on a copy of a leader SIGKILLed
 * while writes stream in: it changes no file, exits 0 (or 1 naming a torn save), shows every write the killed leader
 * acknowledged at its index, and its committed entries agree with what a survivor's {@code GET /v1/log} serves.
 */
class DumpProcessIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Ack(String key, long index) {
    }

    @Test
    void dumpOfALeaderKilledMidWrite() throws Exception {
        Path root = Path.of("target/it-dump/" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3)) {
            cluster.startAll();
            String leader = await("a leader", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            ConcurrentLinkedQueue<Ack> acked = new ConcurrentLinkedQueue<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicInteger n = new AtomicInteger();
            List<Thread> writers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread w = new Thread(() -> {
                    while (!stop.get()) {
                        String key = "w/" + n.incrementAndGet();
                        try {
                            HttpResponse<String> r = cluster.put(leader, key, "v".repeat(1 + key.length() * 7));
                            if (r.statusCode() == 200) {
                                acked.add(new Ack(key, Long.parseLong(ProcessCluster.field(r.body(), "index"))));
                            }
                        } catch (IOException e) {
                            // the leader is gone
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                w.start();
                writers.add(w);
            }
            await("200 acknowledged writes", Duration.ofSeconds(60), () -> acked.size() >= 200 ? java.util.Optional.of(1)
                    : java.util.Optional.empty());
            cluster.kill(leader); // SIGKILL with writes in flight
            stop.set(true);
            for (Thread w : writers) {
                w.join(TimeUnit.SECONDS.toMillis(15));
            }
            List<Ack> acks = new ArrayList<>(acked);

            Path copy = root.resolve(leader + "-copy");
            copyTree(cluster.dataDir(leader), copy);
            Map<String, String> before = hashes(copy);
            Map<String, String> originalBefore = hashes(cluster.dataDir(leader));
            Process p = new ProcessBuilder(java(), "-jar", Path.of("target/quarkus-app/quarkus-run.jar").toString(),
                    "dump", "--format", "json", copy.toString()).redirectError(root.resolve("dump.err").toFile()).start();
            byte[] out = p.getInputStream().readAllBytes();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String err = Files.readString(root.resolve("dump.err"));
            assertEquals(before, hashes(copy), "the dump changed a file of the copy");
            assertEquals(originalBefore, hashes(cluster.dataDir(leader)));
            JsonNode dump = JSON.readTree(out);
            if (p.exitValue() == 1) { // the kill tore a save: it must be named, as a torn save of a segment
                JsonNode problem = dump.get("problems").get(0);
                assertTrue(problem.get("message").asText().contains("torn save"), problem.toString());
                assertTrue(problem.get("file").asText().endsWith(".seg") && problem.get("offset").asLong() > 0);
                assertTrue(err.contains("byte offset"), err);
            } else {
                assertEquals(0, p.exitValue(), err);
                assertTrue(dump.get("ok").asBoolean());
            }

            Map<Long, JsonNode> byIndex = new TreeMap<>();
            dump.get("log").get("entries").forEach(e -> byIndex.put(e.get("index").asLong(), e));
            for (Ack a : acks) {
                JsonNode e = byIndex.get(a.index());
                assertTrue(e != null, "acknowledged write " + a + " is in the killed leader's log");
                assertEquals("PUT", e.get("op").asText());
                assertEquals(a.key(), e.get("key").asText(), "entry " + a.index());
            }

            // what a survivor serves for the committed prefix is exactly what the dump shows
            List<String> survivors = new ArrayList<>(cluster.ids());
            survivors.remove(leader);
            String newLeader = await("a new leader", WAIT, () -> cluster.leaderAmong(survivors));
            long commit = dump.get("storage").get("commit").asLong();
            long from = Math.max(1, commit - 150);
            HttpResponse<String> r = cluster.get(newLeader, "/v1/log?from=" + from + "&limit=1000").orElseThrow();
            assertEquals(200, r.statusCode(), r.body());
            JsonNode api = JSON.readTree(r.body());
            int compared = 0;
            for (JsonNode e : api.get("entries")) {
                long i = e.get("index").asLong();
                if (i <= commit) {
                    assertEquals(byIndex.get(i), e, "committed entry " + i + " as served and as dumped");
                    compared++;
                }
            }
            assertTrue(compared > 100, "compared " + compared + " entries");
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Map<String, String> hashes(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    out.put(dir.relativize(f).toString(), HexFormat.of().formatHex(
                            MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)))
                            + " " + Files.getLastModifiedTime(f).toMillis());
                } else {
                    out.put(dir.relativize(f) + "/", "dir");
                }
            }
        }
        return out;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(f).toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }
}
