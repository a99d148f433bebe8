package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static io.raftkv.it.containers.ContainerCluster.longField;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Snapshots and log compaction with real containers: a follower is SIGKILLed while the cluster takes 50,000 writes
 * and compacts its logs far past the follower's last entry; started again, it can only catch up by InstallSnapshot
 * (the test checks that it received one, not a log replay), and its stale reads show the latest values. Every node's
 * log stays bounded by the snapshot threshold, whatever the number of writes.
 */
class SnapshotCatchUpContainerIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int WRITES = 50_000;
    private static final int KEYS = 2_000;
    private static final String VALUE = "v".repeat(1000);
    private static final Map<String, String> ENV = Map.of(
            "RAFTKV_SNAPSHOT_THRESHOLD", "2000",
            "RAFTKV_SNAPSHOT_LOG_MARGIN", "200",
            "RAFTKV_SNAPSHOT_CHECK_INTERVAL", "1s",
            "RAFTKV_SNAPSHOT_CHUNK_BYTES", "262144",
            "RAFTKV_WAL_SEGMENT_BYTES", "1048576");

    @Test
    void aFollowerBehindTheCompactedLogCatchesUpBySnapshot() throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(3, ENV)) {
            cluster.start();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            String follower = cluster.ids().stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            assertEquals(200, cluster.put(leader, "snap/first", "1", WAIT).statusCode());
            await(follower + " applying snap/first", WAIT, () -> cluster.staleGet(follower, "snap/first").filter("1"::equals));
            long followerLast = longField(cluster.status(follower).orElseThrow(), "lastIndex");
            cluster.kill(follower);

            List<String> up = cluster.up();
            long t0 = System.nanoTime();
            int acked = writeConcurrently(cluster, up, WRITES);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            Figures.record("50,000 writes of 1 KB with a follower down and snapshots every 2,000 entries",
                    acked + " acknowledged in " + ms + " ms");
            String current = await("a leader", WAIT, () -> cluster.leaderAmong(up));
            String leaderStatus = await("the leader compacting past " + follower + "'s log", WAIT, () -> cluster.status(current)
                    .filter(s -> longField(s, "firstIndex") > followerLast + 1000));
            long leaderCommit = longField(leaderStatus, "commitIndex");

            long restartAt = System.nanoTime();
            cluster.restart(follower);
            await(follower + " caught up to the leader's commit " + leaderCommit, WAIT, () -> cluster.status(follower)
                    .filter(s -> longField(s, "lastApplied") >= leaderCommit));
            Figures.record("a follower behind a compacted log catches up by snapshot",
                    (System.nanoTime() - restartAt) / 1_000_000 + " ms from docker start");
            String status = cluster.status(follower).orElseThrow();
            assertTrue(nested(status, "receivedFromLeader") >= 1, "the follower received a snapshot: " + status);
            assertTrue(longField(status, "firstIndex") > followerLast + 1, "its log restarted after the snapshot: " + status);
            String events = cluster.fileOf(follower, "/data/events.log");
            assertTrue(events.contains("installed snapshot"), events);
            for (int k = KEYS - 5; k < KEYS; k++) {
                String key = "snap/k" + k;
                Optional<String> leaderValue = cluster.staleGet(current, key);
                assertTrue(leaderValue.isPresent(), key + " on the leader");
                await(follower + " having the latest " + key, WAIT, () -> cluster.staleGet(follower, key).filter(leaderValue.get()::equals));
            }
            assertEquals(Optional.of("1"), cluster.staleGet(follower, "snap/first"));

            // Bounded disk: the log holds about a threshold's worth of entries (2,000 of 1 KB, plus the margin and
            // 1 MiB segments), not the 50 MB of history.
            for (String id : cluster.ids()) {
                String s = cluster.status(id).orElseThrow();
                long logBytes = longField(s, "logBytes");
                Figures.record(id + " raft log after " + WRITES + " writes", logBytes / 1024 + " KiB, kv.db "
                        + longField(s, "kvBytes") / 1024 + " KiB, snapshot " + nested(s, "sizeBytes") / 1024 + " KiB");
                assertTrue(logBytes < 10L << 20, id + "'s log is " + logBytes + " bytes: " + s);
            }
        }
    }

    /** {@code n} PUTs from 16 threads to whichever node leads, retrying until each is acknowledged. */
    private static int writeConcurrently(ContainerCluster cluster, List<String> up, int n) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        AtomicInteger next = new AtomicInteger();
        AtomicInteger acked = new AtomicInteger();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                futures.add(pool.submit(() -> {
                    String target = cluster.leaderAmong(up).orElse(up.get(0));
                    for (int i = next.getAndIncrement(); i < n; i = next.getAndIncrement()) {
                        String key = "snap/k" + (i % KEYS);
                        long deadline = System.nanoTime() + WAIT.toNanos();
                        while (true) {
                            try {
                                HttpResponse<String> r = cluster.put(target, key, VALUE + i, Duration.ofSeconds(5));
                                if (r.statusCode() == 200) {
                                    acked.incrementAndGet();
                                    break;
                                }
                            } catch (Exception e) {
                                // retry below
                            }
                            if (System.nanoTime() > deadline) {
                                throw new AssertionError("write " + i + " not acknowledged within " + WAIT);
                            }
                            target = cluster.leaderAmong(up).orElse(target);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return acked.get();
    }

    /** A numeric field anywhere in the JSON (for the nested "snapshot" object). */
    private static long nested(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        if (!m.find()) {
            throw new AssertionError("no " + name + " in " + json);
        }
        return Long.parseLong(m.group(1));
    }

}
