package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.storage.StorageException;
import org.junit.jupiter.api.Test;

/**
 * Storage faults under load: a log write (an fsync) that fails stops the node's Raft side at once (continuing could
 * acknowledge what is not durable), every pending write gets a true answer (the leader's entries may already be on
 * its followers, which send before... so: unknown, never "no effect" for an appended entry), and the others go on.
 * A node restarted on its log once the disk is back catches up.
 */
class StorageFaultTest extends ClusterLoadTest {

    @Test
    void aLeaderWhoseFsyncFailsStopsAndAnswersEveryPendingWriteTruly() throws Exception {
        try (InProcessCluster c = threeNodes()) {
            c.startAll();
            String leader = c.awaitLeader();
            WriteLoad load = WriteLoad.acknowledged(c.nodes.get(leader), 4, 200);
            c.failLogWrites(leader);
            InProcessCluster.await(leader + " stopped by the failed write", () -> c.fatal(leader) != null);
            assertTrue(c.fatal(leader) instanceof StorageException, String.valueOf(c.fatal(leader)));
            load.stop();
            c.stop(leader);
            String next = c.awaitLeader();
            awaitBarrier(c, next, "barrier");
            int[] counts = load.verify(c);
            assertTrue(counts[Outcome.OK.ordinal()] >= 200, "acknowledged " + counts[0]);
            assertTrue(counts[Outcome.NO_EFFECT.ordinal()] + counts[Outcome.UNKNOWN.ordinal()] > 0,
                    "the fault found writes in flight");

            // The disk is back: restarted on its own (intact) log, the old leader catches up.
            c.repairLog(leader);
            c.start(leader);
            InProcessCluster.await(leader + " caught up", () -> c.store(leader).get("barrier").isPresent());
            load.verify(c);
        }
    }

    @Test
    void aFollowerWhoseFsyncFailsStopsWithoutAckingAndTheOthersGoOn() throws Exception {
        try (InProcessCluster c = threeNodes()) {
            c.startAll();
            String leader = c.awaitLeader();
            String follower = c.ids.stream().filter(id -> !id.equals(leader)).findFirst().orElseThrow();
            c.failLogWrites(follower);
            WriteLoad load = new WriteLoad(c.nodes.get(leader), 2);
            InProcessCluster.await(follower + " stopped", () -> c.fatal(follower) != null);
            InProcessCluster.await("100 acknowledged writes without it", () -> load.ok.get() >= 100);
            load.stop();
            assertNotNull(c.nodes.get(leader).propose(put("after")).get());
            c.stop(follower);
            c.repairLog(follower);
            c.start(follower);
            InProcessCluster.await(follower + " caught up", () -> c.store(follower).get("after").isPresent());
            int[] counts = load.verify(c);
            assertTrue(counts[Outcome.OK.ordinal()] >= 100);
        }
    }
}
