package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The peer channel's metrics on real processes over mutual TLS: the leader measures its round trip to each follower
 * ({@code raftkv_network_peer_round_trip_time_seconds{To=...}}) and counts what it cannot send to a follower that was
 * killed ({@code raftkv_network_peer_sent_failures_total{To=...}}), while the live follower's count stays where it was.
 */
class PeerMetricsIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void roundTripsPerPeerAndFailuresToADeadPeer() throws Exception {
        try (ProcessCluster cluster = new ProcessCluster(Path.of("target/it-peer-metrics/" + System.currentTimeMillis()), 3)) {
            cluster.startAll();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            for (String f : followers) {
                await("round trips to " + f + " measured", WAIT, () -> metric(cluster, leader,
                        "raftkv_network_peer_round_trip_time_seconds_count", f).filter(v -> v >= 2));
            }
            String dead = followers.get(0);
            String live = followers.get(1);
            double liveBefore = metric(cluster, leader, "raftkv_network_peer_sent_failures_total", live).orElse(0.0);
            cluster.kill(dead);
            await("messages to the killed " + dead + " counted as not sent", WAIT, () -> metric(cluster, leader,
                    "raftkv_network_peer_sent_failures_total", dead).filter(v -> v > 0));
            assertTrue(cluster.putAtLeader(leader, "pm/k", "v", WAIT).statusCode() == 200);
            double liveAfter = metric(cluster, leader, "raftkv_network_peer_sent_failures_total", live).orElse(0.0);
            assertTrue(liveAfter == liveBefore, "nothing failed to the live follower: " + liveBefore + " -> " + liveAfter);
        }
    }

    private static Optional<Double> metric(ProcessCluster cluster, String node, String name, String to) {
        Optional<HttpResponse<String>> r = cluster.get(node, "/q/metrics");
        if (r.isEmpty() || r.get().statusCode() != 200) {
            return Optional.empty();
        }
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{[^}]*To=\"" + Pattern.quote(to) + "\"[^}]*} ([0-9.eE+-]+)$")
                .matcher(r.get().body());
        return m.find() ? Optional.of(Double.parseDouble(m.group(1))) : Optional.empty();
    }
}
