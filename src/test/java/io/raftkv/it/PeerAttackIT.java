package io.raftkv.it;

import static io.raftkv.it.Waits.await;
import static io.raftkv.it.Waits.field;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.peer.PeerFrames;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.transport.MessageCodec;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The attack of issue 11 against a 3-node cluster of real processes with mutual-TLS peers: a forged AppendEntries to a
 * follower, claiming to come from the leader, one term higher, with a made-up entry after the follower's commit
 * index. Tried without a client certificate, with another member's valid certificate, and with a certificate of the
 * leader's id from another CA; then by a member speaking for itself, and against the old client-port endpoint.
 * Every node's value, term and log stay as they were, and the refusals are counted.
 */
class PeerAttackIT {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void forgedAppendEntriesAreRefusedInEveryForm() throws Exception {
        Path root = Path.of("target/it-peer-attack/" + System.currentTimeMillis()).toAbsolutePath();
        Path otherCa = root.resolve("other-ca");
        try (ProcessCluster cluster = new ProcessCluster(root, 3); PeerProbe probe = new PeerProbe()) {
            // A busy machine must not elect for its own reasons mid-test: the terms are compared at the end.
            cluster.env("RAFTKV_ELECTION_TIMEOUT", "3s").startAll();
            String leader = await("a leader", WAIT, () -> cluster.leaderAmong(cluster.ids()));
            List<String> followers = cluster.ids().stream().filter(id -> !id.equals(leader)).toList();
            String victim = followers.get(0);
            String other = followers.get(1);
            HttpResponse<String> put = cluster.putAtLeader(leader, "attack/x", "genuine", WAIT);
            assertEquals(200, put.statusCode(), put.body());
            for (String id : cluster.ids()) {
                await("the value on " + id, WAIT, () -> cluster.staleGet(id, "attack/x").filter("genuine"::equals));
            }
            await("the same log on every node", WAIT, () -> sameLogs(cluster));
            Map<String, String> before = snapshot(cluster);

            String victimStatus = cluster.status(victim).orElseThrow();
            String leaderStatus = cluster.status(leader).orElseThrow();
            long term = Long.parseLong(field(victimStatus, "term"));
            long last = Long.parseLong(field(victimStatus, "lastIndex"));
            long lastTerm = Long.parseLong(field(victimStatus, "lastTerm"));
            long commit = Long.parseLong(field(victimStatus, "commitIndex"));
            byte[] madeUp = KvCommand.put("attack/x", "forged".getBytes(StandardCharsets.UTF_8)).encode();
            Message forged = Message.builder(MessageType.APPEND, leader, victim, term + 1).index(last).logTerm(lastTerm)
                    .entries(List.of(new Entry(term + 1, last + 1, EntryType.COMMAND, madeUp))).commit(commit + 1).build();
            byte[] hello = PeerFrames.hello(leader, victim);
            byte[] batch = PeerFrames.messages(field(leaderStatus, "clusterId"), field(leaderStatus, "incarnation"),
                    MessageCodec.encode(List.of(forged)));
            int port = cluster.peerPort(victim);
            Path certs = cluster.tlsDir();
            ProcessCluster.certificates(otherCa, leader);

            // 1. No client certificate: the TLS handshake fails.
            PeerProbe.Outcome none = untilCounted(cluster, victim, "tls", () -> probe.attempt(port, certs, null, certs, hello, batch));
            assertFalse(none.answers().contains("HELLO_OK"), "no certificate: " + none);
            // 2. A valid certificate of another member, claiming the leader's id: refused at HELLO.
            PeerProbe.Outcome impostor = untilCounted(cluster, victim, "certificate",
                    () -> probe.attempt(port, certs, other, certs, hello, batch));
            assertTrue(impostor.connected() && impostor.refusedWith("CERTIFICATE"), "another member's certificate: " + impostor);
            assertFalse(impostor.answers().contains("HELLO_OK"));
            // 3. A certificate of the leader's id from another CA: the handshake fails.
            long tlsBefore = rejections(cluster, victim, "tls");
            PeerProbe.Outcome foreign = untilCounted(cluster, victim, "tls", tlsBefore,
                    () -> probe.attempt(port, otherCa, leader, certs, hello, batch));
            assertFalse(foreign.answers().contains("HELLO_OK"), "a certificate from another CA: " + foreign);

            // A member speaking for itself, against Raft's rules: AppendEntries of the current term, not from the
            // leader of that term. Taken off the wire, dropped by the node, counted as forged.
            Message notTheLeader = Message.builder(MessageType.APPEND, other, victim, term).index(last).logTerm(lastTerm)
                    .entries(List.of(new Entry(term, last + 1, EntryType.COMMAND, madeUp))).commit(commit + 1).build();
            String otherStatus = cluster.status(other).orElseThrow();
            PeerProbe.Outcome rogue = untilCounted(cluster, victim, "forged", () -> probe.attempt(port, certs, other, certs,
                    PeerFrames.hello(other, victim), PeerFrames.messages(field(otherStatus, "clusterId"),
                            field(otherStatus, "incarnation"), MessageCodec.encode(List.of(notTheLeader)))));
            assertTrue(rogue.answers().contains("HELLO_OK"), "a member's own certificate connects: " + rogue);
            // ... and the cluster and incarnation checks still hold on the new channel.
            PeerProbe.Outcome strangerCluster = probe.attempt(port, certs, other, certs, PeerFrames.hello(other, victim),
                    PeerFrames.messages("another-cluster", field(otherStatus, "incarnation"), MessageCodec.encode(List.of(notTheLeader))));
            assertTrue(strangerCluster.refusedWith("CLUSTER"), strangerCluster.toString());
            PeerProbe.Outcome otherDisk = probe.attempt(port, certs, other, certs, PeerFrames.hello(other, victim),
                    PeerFrames.messages(field(otherStatus, "clusterId"), "an-empty-data-directory", MessageCodec.encode(List.of(notTheLeader))));
            assertTrue(otherDisk.refusedWith("INCARNATION"), otherDisk.toString());
            assertTrue(cluster.status(victim).orElseThrow().contains("\"tls\":true"));

            // The client port has no peer endpoint any more.
            assertEquals(404, cluster.postBytes(victim, "/raft/messages", MessageCodec.encode(List.of(forged)), leader));

            // Nothing changed anywhere: value, term, log. (Heartbeats keep flowing meanwhile.)
            await("heartbeats after the attacks", WAIT, () -> cluster.status(victim)
                    .filter(s -> leader.equals(field(s, "leader"))));
            assertEquals(before, snapshot(cluster), "value, term and log of every node");
            for (String id : cluster.ids()) {
                assertEquals("genuine", cluster.staleGet(id, "attack/x").orElseThrow(), id);
            }
            HttpResponse<String> read = cluster.get(leader, "/v1/kv/attack/x").orElseThrow();
            assertEquals("genuine", read.body());
        }
    }

    private interface Attempt {
        PeerProbe.Outcome run() throws Exception;
    }

    /** Tries until {@code id}'s count of refusals for {@code reason} is above what it was (a loaded machine may time out). */
    private static PeerProbe.Outcome untilCounted(ProcessCluster cluster, String id, String reason, Attempt attempt) throws Exception {
        return untilCounted(cluster, id, reason, rejections(cluster, id, reason), attempt);
    }

    private static PeerProbe.Outcome untilCounted(ProcessCluster cluster, String id, String reason, long before,
                                                  Attempt attempt) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        PeerProbe.Outcome last = null;
        while (System.nanoTime() < deadline) {
            last = attempt.run();
            long waitUntil = System.nanoTime() + 3_000_000_000L;
            while (System.nanoTime() < waitUntil) {
                if (rejections(cluster, id, reason) > before) {
                    return last;
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("no " + reason + " refusal counted on " + id + " (last try: " + last + "); status: "
                + cluster.status(id).orElse("down"));
    }

    private static long rejections(ProcessCluster cluster, String id, String reason) {
        String s = cluster.status(id).orElse("");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"peerRejections\":\\{[^}]*\"" + reason + "\":(\\d+)").matcher(s);
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    private static Optional<Boolean> sameLogs(ProcessCluster cluster) {
        Map<String, String> s = snapshot(cluster);
        return s.values().stream().distinct().count() == 1 && !s.containsValue(null) ? Optional.of(true) : Optional.empty();
    }

    /** Each node's term, last index and term, commit index and leader. */
    private static Map<String, String> snapshot(ProcessCluster cluster) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String id : cluster.ids()) {
            out.put(id, cluster.status(id).map(s -> "term " + field(s, "term") + " last " + field(s, "lastIndex") + "/"
                    + field(s, "lastTerm") + " commit " + field(s, "commitIndex") + " leader " + field(s, "leader")).orElse(null));
        }
        return out;
    }
}
