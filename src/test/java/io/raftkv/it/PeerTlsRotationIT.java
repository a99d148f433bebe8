package io.raftkv.it;

import static io.raftkv.it.ProcessCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Peer certificates renewed under a running cluster (a new CA and new node certificates, as a cert-manager rotation
 * of the whole chain): every member reloads them without a restart; then the leader is killed and restarted, and
 * it can only talk to the others because they now trust the new CA and present certificates of it. A write made
 * after the rotation reaches every member.
 */
class PeerTlsRotationIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void renewedPeerCertificatesAreReloadedByEveryMemberWithoutARestart() throws Exception {
        Path root = Path.of("target/it-peer-tls-rotation/" + System.currentTimeMillis());
        try (ProcessCluster cluster = new ProcessCluster(root, 3).env("RAFTKV_PEER_TLS_RELOAD_INTERVAL", "1s")) {
            cluster.startAll();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            assertEquals(200, cluster.putAtLeader(leader, "rot/before", "1", WAIT).statusCode());

            Path renewed = root.resolve("renewed-tls");
            ProcessCluster.certificates(renewed, cluster.ids().toArray(String[]::new));
            List<String> files;
            try (var s = Files.list(renewed)) {
                files = s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("ca.key")).toList();
            }
            for (String f : files) {
                Path tmp = cluster.tlsDir().resolve(f + ".new");
                Files.copy(renewed.resolve(f), tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, cluster.tlsDir().resolve(f), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            for (String id : cluster.ids()) {
                await(id + " reloaded its peer certificates", WAIT, () -> events(cluster, id)
                        .filter(e -> e.contains("peer TLS certificates reloaded")));
            }

            // The restarted leader has only the new chain: the others must have taken it, both ways.
            cluster.kill(leader);
            List<String> others = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            String next = await("a leader among " + others, WAIT, () -> cluster.leaderAmong(others));
            cluster.start(leader);
            assertEquals(200, cluster.putAtLeader(next, "rot/after", "2", WAIT).statusCode());
            await("rot/after on the restarted " + leader, WAIT, () -> cluster.staleGet(leader, "rot/after"));
            await("rot/before on the restarted " + leader, WAIT, () -> cluster.staleGet(leader, "rot/before"));
        }
    }

    private static Optional<String> events(ProcessCluster cluster, String id) {
        try {
            return Optional.of(Files.readString(cluster.dataDir(id).resolve("events.log")));
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
