package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static io.raftkv.it.containers.ContainerCluster.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.LinearizabilityChecker;
import io.raftkv.raft.sim.LinearizabilityChecker.Op;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Concurrent clients write and read a few keys while the leader is SIGKILLed and restarted several times. Afterwards
 * every acknowledged write is present and the recorded history (acknowledged, failed and unknown-outcome operations)
 * is linearizable. Writes to unique keys go through client sessions and are retried (same client id and sequence)
 * until they get a definite answer: none may be applied twice (its final version must be the acknowledged one).
 */
class WritesUnderLeaderKillsIT {

    private static final int CLIENTS = 4;
    private static final int KILLS = 3;
    private static final String[] KEYS = {"r/a", "r/b", "r/c", "r/d", "r/e"};
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    private final AtomicLong clock = new AtomicLong();
    private final AtomicInteger opIds = new AtomicInteger();
    private final List<Op> history = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, String> acknowledgedUnique = new ConcurrentHashMap<>();
    private final Map<String, String> acknowledgedVersion = new ConcurrentHashMap<>();
    private final AtomicInteger retries = new AtomicInteger();
    private final AtomicInteger duplicatesAnswered = new AtomicInteger();
    private final AtomicInteger successes = new AtomicInteger();
    /** Requests sent (each attempt of a retried write counts), and the longest time without a successful write. */
    private final AtomicInteger requests = new AtomicInteger();
    private final List<String> appliedTwice = Collections.synchronizedList(new ArrayList<>());
    private volatile long lastSuccessNanos;
    private volatile long maxGapNanos;
    private volatile String leaderHint;

    @Test
    void acknowledgedWritesSurviveRepeatedLeaderKillsAndHistoryIsLinearizable() throws Exception {
        run(KILLS + " leader kills", cluster -> {
            for (int k = 0; k < KILLS; k++) {
                awaitProgress(50);
                String leader = await("a leader", Duration.ofSeconds(30), () -> cluster.leaderAmong(cluster.up()));
                cluster.kill(leader);
                List<String> rest = cluster.up();
                await("a new leader", Duration.ofSeconds(30), () -> cluster.leaderAmong(rest));
                awaitProgress(50);
                cluster.restart(leader);
            }
            awaitProgress(50);
        });
    }

    /**
     * A nemesis that, every 2 to 4 s for 40 s, picks a random node and SIGKILLs and restarts it, pauses it
     * (SIGSTOP/SIGCONT) for 1 to 3 s, cuts it off from its peers for 2 s, or stops it gracefully (SIGTERM) and starts
     * it again. The same checks as under leader kills, plus the figures of a retrying client's availability.
     */
    @Test
    void acknowledgedWritesSurviveANemesisAndHistoryIsLinearizable() throws Exception {
        run("a nemesis", cluster -> {
            Random random = new Random(42);
            long end = System.nanoTime() + Duration.ofSeconds(40).toNanos();
            List<String> faults = new ArrayList<>();
            while (System.nanoTime() < end) {
                Thread.sleep(2000 + random.nextInt(2000)); // the nemesis's own pace, not a wait for a condition
                String victim = cluster.ids().get(random.nextInt(cluster.ids().size()));
                switch (random.nextInt(4)) {
                    case 0 -> {
                        cluster.kill(victim);
                        faults.add("kill " + victim);
                        Thread.sleep(500 + random.nextInt(1000));
                        cluster.restart(victim);
                    }
                    case 1 -> {
                        cluster.pause(victim);
                        faults.add("pause " + victim);
                        Thread.sleep(1000 + random.nextInt(2000));
                        cluster.unpause(victim);
                    }
                    case 2 -> {
                        cluster.isolate(victim);
                        faults.add("isolate " + victim);
                        Thread.sleep(2000);
                        cluster.heal(victim);
                    }
                    default -> {
                        cluster.gracefulStop(victim);
                        faults.add("stop " + victim);
                        cluster.restart(victim);
                    }
                }
            }
            System.out.println("[nemesis] " + faults);
            awaitProgress(50);
        });
    }

    /** What the faults do to the cluster while the clients run. */
    private interface Faults {
        void inject(ContainerCluster cluster) throws Exception;
    }

    private void run(String what, Faults faults) throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(3)) {
            cluster.start();
            leaderHint = await("a leader", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> clients = new ArrayList<>();
            long started = System.nanoTime();
            lastSuccessNanos = started;
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                Thread t = new Thread(() -> runClient(cluster, client, running), "client-" + c);
                t.start();
                clients.add(t);
            }
            faults.inject(cluster);
            running.set(false);
            for (Thread t : clients) {
                t.join(30_000);
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            int sent = requests.get();
            int answered = successes.get();

            String leader = await("a leader", Duration.ofSeconds(30), () -> cluster.leaderAmong(cluster.ids()));
            // Final linearizable reads of every register join the history.
            for (String key : KEYS) {
                long call = clock.incrementAndGet();
                HttpResponse<String> r = settledRead(cluster, key);
                long ret = clock.incrementAndGet();
                assertTrue(r.statusCode() == 200 || r.statusCode() == 404, r.statusCode() + " " + r.body());
                history.add(Op.read(opIds.incrementAndGet(), key, r.statusCode() == 200 ? r.body() : null, call, ret));
            }
            // Every acknowledged write to a unique key is there, with its value.
            for (Map.Entry<String, String> e : acknowledgedUnique.entrySet()) {
                HttpResponse<String> r = settledRead(cluster, e.getKey());
                assertEquals(200, r.statusCode(), "acknowledged write of " + e.getKey() + " is missing");
                assertEquals(e.getValue(), r.body(), e.getKey());
                if (!java.util.Objects.equals(acknowledgedVersion.get(e.getKey()), r.headers().firstValue("X-Raftkv-Version").orElse(null))) {
                    appliedTwice.add(e.getKey()); // applied again after it was acknowledged: its version moved
                }
            }
            LinearizabilityChecker.Result result = new LinearizabilityChecker().check(new ArrayList<>(history));
            Figures.record("availability under " + what, String.format(java.util.Locale.ROOT,
                    "%d of %d requests answered 2xx (%.1f%%) in %.0f s, longest gap without a successful write %d ms,"
                    + " %d of %d session writes applied twice (must be 0)", answered, sent,
                    100.0 * answered / Math.max(1, sent), seconds, maxGapNanos / 1_000_000, appliedTwice.size(),
                    acknowledgedUnique.size()));
            Figures.record("writes under " + what, history.size() + " operations recorded, "
                    + acknowledgedUnique.size() + " unique-key session writes acknowledged after " + retries.get() + " retries ("
                    + duplicatesAnswered.get() + " answered as duplicates, none applied twice), history "
                    + result.toString().split("\n")[0]);
            assertEquals(List.of(), appliedTwice, "session writes applied again after they were acknowledged");
            assertTrue(result.ok(), result.toString());
        }
    }

    private void runClient(ContainerCluster cluster, int client, AtomicBoolean running) {
        Random random = new Random(client);
        int seq = 0;
        while (running.get()) {
            String target = leaderHint;
            String key = KEYS[random.nextInt(KEYS.length)];
            boolean write = random.nextBoolean();
            String value = "c" + client + "-" + (++seq);
            boolean unique = write && seq % 4 == 0;
            if (unique) {
                writeOnce(cluster, "client-" + client + "-" + System.nanoTime(), "u/" + value, value);
                continue;
            }
            long call = clock.incrementAndGet();
            HttpResponse<String> r;
            try {
                r = send(cluster, target, write ? "PUT" : "GET", key, write ? value : null);
            } catch (IllegalStateException | java.net.ConnectException e) {
                // Not sent (the node is down) or refused: no effect.
                refreshLeader(cluster);
                continue;
            } catch (Exception e) {
                // Sent, but no answer: a write may or may not have happened; a read had no effect.
                if (write && !unique) {
                    history.add(Op.write(opIds.incrementAndGet(), key, value, call, LinearizabilityChecker.NEVER));
                }
                refreshLeader(cluster);
                continue;
            }
            long ret = clock.incrementAndGet();
            int status = r.statusCode();
            if (status == 200 || (!write && status == 404)) {
                successes.incrementAndGet();
                if (unique) {
                    acknowledgedUnique.put(key, value);
                } else if (write) {
                    writeSucceeded();
                    history.add(Op.write(opIds.incrementAndGet(), key, value, call, ret));
                } else {
                    history.add(Op.read(opIds.incrementAndGet(), key, status == 200 ? r.body() : null, call, ret));
                }
            } else if (status == 504 && write && !unique) {
                history.add(Op.write(opIds.incrementAndGet(), key, value, call, LinearizabilityChecker.NEVER));
            } else if (status == 307 || status == 503) {
                // Not applied (a follower, no leader, or a lost log slot): nothing to record.
                String hinted = field(r.body(), "leader");
                if (hinted != null && cluster.up().contains(hinted)) {
                    leaderHint = hinted;
                } else {
                    refreshLeader(cluster);
                }
            } else if (status != 504) {
                throw new AssertionError("unexpected answer " + status + ": " + r.body());
            }
        }
    }

    /**
     * A write with its own client session, retried with the same id and sequence after every answer that leaves its
     * outcome open (no answer, 504), or that says it was not applied (503, 429, a redirect), until it succeeds.
     */
    private void writeOnce(ContainerCluster cluster, String clientId, String key, String value) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int attempt = 0; System.nanoTime() < deadline; attempt++) {
            if (attempt > 0) {
                retries.incrementAndGet();
            }
            try {
                requests.incrementAndGet();
                HttpRequest request = HttpRequest.newBuilder(URI.create(cluster.url(leaderHint) + "/v1/kv/" + key))
                        .timeout(Duration.ofSeconds(3)).header("Raftkv-Client-Id", clientId).header("Raftkv-Request-Seq", "1")
                        .PUT(HttpRequest.BodyPublishers.ofString(value)).build();
                HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    successes.incrementAndGet();
                    writeSucceeded();
                    if (r.headers().firstValue("Raftkv-Duplicate").isPresent()) {
                        duplicatesAnswered.incrementAndGet();
                    }
                    acknowledgedUnique.put(key, value);
                    acknowledgedVersion.put(key, field(r.body(), "version"));
                    return;
                }
                assertTrue(r.statusCode() == 504 || r.statusCode() == 503 || r.statusCode() == 307 || r.statusCode() == 429,
                        "unexpected answer " + r.statusCode() + ": " + r.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // no answer: outcome unknown, retry
            }
            refreshLeader(cluster);
        }
        throw new AssertionError("the session write of " + key + " never got through");
    }

    private void refreshLeader(ContainerCluster cluster) {
        cluster.leaderAmong(cluster.up()).ifPresent(l -> leaderHint = l);
    }

    /**
     * A linearizable read after the faults, at whichever node leads now: a redirect, a 503, a 504 (the read's
     * ReadIndex not confirmed in time: a leader that has just lost its quorum or is about to be deposed) or no answer
     * (leadership still settling after the last fault) is retried for up to 30 s; any other answer is returned.
     */
    private HttpResponse<String> settledRead(ContainerCluster cluster, String key) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            String at = cluster.leaderAmong(cluster.up()).orElse(null);
            if (at != null) {
                try {
                    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.url(at) + "/v1/kv/" + key))
                            .timeout(Duration.ofSeconds(8)).build(), HttpResponse.BodyHandlers.ofString());
                    if ((r.statusCode() != 307 && r.statusCode() != 503 && r.statusCode() != 504) || System.nanoTime() > deadline) {
                        return r;
                    }
                } catch (java.io.IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("no leader for the final reads within 30 s");
            }
            Thread.sleep(100); // between attempts while leadership settles
        }
    }

    /** A successful write now: the gap since the previous one counts toward the longest. */
    private synchronized void writeSucceeded() {
        long now = System.nanoTime();
        maxGapNanos = Math.max(maxGapNanos, now - lastSuccessNanos);
        lastSuccessNanos = now;
    }

    private HttpResponse<String> send(ContainerCluster cluster, String node, String method, String key, String value) throws Exception {
        requests.incrementAndGet();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(cluster.url(node) + "/v1/kv/" + key)).timeout(Duration.ofSeconds(3));
        b = value == null ? b.method(method, HttpRequest.BodyPublishers.noBody()) : b.method(method, HttpRequest.BodyPublishers.ofString(value));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void awaitProgress(int moreSuccesses) throws InterruptedException {
        int target = successes.get() + moreSuccesses;
        await(moreSuccesses + " more successful operations", Duration.ofSeconds(60),
                () -> successes.get() >= target ? Optional.of(true) : Optional.empty());
    }
}
