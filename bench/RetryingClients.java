import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark's retrying clients (bench/run.sh, the nemesis row): N clients, each writing unique keys one after the
 * other and retrying every write until it is acknowledged, whatever the cluster does (a redirect is followed, and
 * the leader it names stays the target of the next writes; no answer / 5xx / 429 is retried at the next endpoint;
 * every attempt, a redirected one included, counts as a request). Against raftkv each client has a session
 * (Raftkv-Client-Id, Raftkv-Request-Seq), so a retry is never applied twice; etcd has no such thing. At the end every
 * acknowledged key is read back and its version checked: a write applied twice shows as a version other than the one
 * its acknowledgement named (raftkv: the index of the key's last write) or above 1 (etcd: the number of writes).
 * <p>
 * Prints one line: {@code RESULT requests=... ok=... writes=... acked=... duplicates=... maxgap_ms=... lost=... failures=...}
 * (failures: what the requests not answered 2xx got, e.g. {@code 307:12,refused:40,timeout:9}).
 * <pre>
 *   java bench/RetryingClients.java raftkv|etcd SECONDS CLIENTS URL[,URL...]
 * </pre>
 */
public class RetryingClients {

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    static final AtomicLong requests = new AtomicLong();
    static final AtomicLong ok = new AtomicLong();
    static final AtomicLong writes = new AtomicLong();
    static final Map<String, String> acked = new ConcurrentHashMap<>();
    /** The requests not answered 2xx, by what they got: an HTTP status, or refused / timeout / io (no answer). */
    static final Map<String, AtomicLong> failures = new ConcurrentHashMap<>();
    static volatile long lastSuccess = System.nanoTime();
    static volatile long maxGap;
    /** Where the read-back found an answer last (the leader, after a redirect): asked first for the next key. */
    static URI readAt;

    public static void main(String[] args) throws Exception {
        boolean etcd = args[0].equals("etcd");
        long seconds = Long.parseLong(args[1]);
        int clients = Integer.parseInt(args[2]);
        List<URI> endpoints = new ArrayList<>();
        for (String e : args[3].split(",")) {
            endpoints.add(URI.create(e));
        }
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        List<Thread> threads = new ArrayList<>();
        lastSuccess = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            int client = c;
            Thread t = new Thread(() -> run(etcd, client, endpoints, end));
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        long duplicates = 0;
        long lost = 0;
        for (Map.Entry<String, String> e : acked.entrySet()) {
            long version = readVersion(etcd, endpoints, e.getKey());
            if (version < 0) {
                lost++;
            } else if (!Long.toString(version).equals(e.getValue())) {
                duplicates++;
            }
        }
        StringBuilder failed = new StringBuilder();
        new java.util.TreeMap<>(failures).forEach((k, v) -> failed.append(failed.length() == 0 ? "" : ",").append(k).append(':').append(v));
        System.out.printf("RESULT requests=%d ok=%d writes=%d acked=%d duplicates=%d maxgap_ms=%d lost=%d failures=%s%n",
                requests.get(), ok.get(), writes.get(), acked.size(), duplicates, maxGap / 1_000_000, lost,
                failed.length() == 0 ? "none" : failed);
    }

    static void run(boolean etcd, int client, List<URI> endpoints, long end) {
        String session = UUID.randomUUID().toString();
        int target = client % endpoints.size();
        // Where the next write goes: the member that answered the last one (the leader a redirect named stays the
        // target, as a client library keeps its connection), the next endpoint after a failure.
        URI at = endpoints.get(target);
        for (long seq = 1; System.nanoTime() < end; seq++) {
            String key = "nemesis/" + session.substring(0, 8) + "/" + seq;
            writes.incrementAndGet();
            while (System.nanoTime() < end) {
                requests.incrementAndGet();
                try {
                    HttpResponse<String> r = HTTP.send(write(etcd, at, key, session, seq), HttpResponse.BodyHandlers.ofString());
                    int sc = r.statusCode();
                    if (sc == 200 || sc == 201) {
                        ok.incrementAndGet();
                        acked.put(key, etcd ? "1" : jsonField(r.body(), "version"));
                        long now = System.nanoTime();
                        synchronized (RetryingClients.class) {
                            maxGap = Math.max(maxGap, now - lastSuccess);
                            lastSuccess = now;
                        }
                        break;
                    }
                    failed(Integer.toString(sc));
                    if ((sc == 307 || sc == 308) && r.headers().firstValue("Location").isPresent()) {
                        URI loc = at.resolve(r.headers().firstValue("Location").get());
                        at = URI.create(loc.getScheme() + "://" + loc.getAuthority());
                        continue;
                    }
                } catch (java.net.http.HttpTimeoutException e) {
                    failed("timeout"); // no answer in time: the outcome is unknown; retry (the session makes that safe on raftkv)
                } catch (java.net.ConnectException e) {
                    failed("refused");
                } catch (Exception e) {
                    failed("io");
                }
                target = (target + 1) % endpoints.size();
                at = endpoints.get(target);
                sleep(50);
            }
        }
    }

    static void failed(String what) {
        failures.computeIfAbsent(what, k -> new AtomicLong()).incrementAndGet();
    }

    static HttpRequest write(boolean etcd, URI at, String key, String session, long seq) {
        if (etcd) {
            String body = "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64("v") + "\"}";
            return HttpRequest.newBuilder(at.resolve("/v3/kv/put")).timeout(Duration.ofSeconds(2))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        }
        return HttpRequest.newBuilder(at.resolve("/v1/kv/" + key)).timeout(Duration.ofSeconds(2))
                .header("Raftkv-Client-Id", session).header("Raftkv-Request-Seq", Long.toString(seq))
                .PUT(HttpRequest.BodyPublishers.ofString("v")).build();
    }

    /** The key's version (1 = written once), -1 if it is missing; asked of each endpoint until one answers. */
    static long readVersion(boolean etcd, List<URI> endpoints, String key) throws InterruptedException {
        URI at = readAt != null ? readAt : endpoints.get(0);
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                if (etcd) {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(at.resolve("/v3/kv/range"))
                            .timeout(Duration.ofSeconds(2)).POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"key\":\"" + b64(key) + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        String b = r.body();
                        int v = b.indexOf("\"version\":\"");
                        return v < 0 ? -1 : Long.parseLong(b.substring(v + 11, b.indexOf('"', v + 11)));
                    }
                } else {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(at.resolve("/v1/kv/" + key))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        readAt = at;
                        return Long.parseLong(r.headers().firstValue("X-Raftkv-Version").orElse("-1"));
                    }
                    if (r.statusCode() == 404) {
                        readAt = at;
                        return -1;
                    }
                    if (r.statusCode() == 307 && r.headers().firstValue("Location").isPresent()) {
                        URI loc = at.resolve(r.headers().firstValue("Location").get());
                        at = URI.create(loc.getScheme() + "://" + loc.getAuthority()); // the leader, for this and the next keys
                        continue;
                    }
                }
            } catch (Exception e) {
                // next endpoint
            }
            at = endpoints.get((endpoints.indexOf(at) + 1 + endpoints.size()) % endpoints.size());
            sleep(100);
        }
        return -1;
    }

    /** A number field of a small JSON answer ({@code "name":123}), or "" when absent. */
    static String jsonField(String json, String name) {
        int at = json.indexOf("\"" + name + "\":");
        if (at < 0) {
            return "";
        }
        int from = at + name.length() + 3;
        int to = from;
        while (to < json.length() && Character.isDigit(json.charAt(to))) {
            to++;
        }
        return json.substring(from, to);
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
