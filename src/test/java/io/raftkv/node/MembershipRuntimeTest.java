package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.Role;
import io.raftkv.statemachine.KvCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Membership changes through real nodes: a joining server waits, catches up as a learner, is promoted, and leads. */
class MembershipRuntimeTest {

    @TempDir
    Path dir;

    static byte[] put(String key) {
        return KvCommand.put(key, key.getBytes(StandardCharsets.UTF_8)).encode();
    }

    @Test
    void aJoiningServerCatchesUpAsALearnerIsPromotedAndTheOldLeaderCanBeRemoved() throws Exception {
        try (InProcessCluster c = new InProcessCluster(dir, 3, 4096)) {
            Set<String> stay = java.util.concurrent.ConcurrentHashMap.newKeySet();
            c.membership(new MembershipListener() {
                @Override
                public boolean autoPromote(String learnerId) {
                    return !stay.contains(learnerId);
                }
            });
            c.startAll();
            String leader = c.awaitLeader();
            for (int i = 0; i < 50; i++) {
                c.nodes.get(leader).propose(put("before-" + i)).get();
            }
            RaftNode n4 = c.startJoining("n4");
            InProcessCluster.await("n4 started", () -> n4.configuration() != null);
            assertTrue(n4.configuration().isEmpty(), "a joining server has no configuration until it is added");
            assertEquals(Role.FOLLOWER, n4.role());

            c.nodes.get(leader).proposeConfChange(ConfChange.addLearner("n4", new byte[0])).get();
            InProcessCluster.await("n4 promoted to voter", () -> c.nodes.get(leader).configuration().isVoter("n4"));
            InProcessCluster.await("n4 applied the old writes", () -> c.store("n4").get("before-49").isPresent());
            assertEquals(List.of("n1", "n2", "n3", "n4"), c.nodes.get(leader).configuration().voters());

            // A learner that is to stay one is not promoted.
            stay.add("n5");
            RaftNode n5 = c.startJoining("n5");
            String l = c.awaitLeader();
            c.nodes.get(l).proposeConfChange(ConfChange.addLearner("n5", new byte[0])).get();
            InProcessCluster.await("n5 caught up", () -> c.store("n5").get("before-49").isPresent());
            c.nodes.get(l).propose(put("after-n5")).get();
            InProcessCluster.await("n5 applied a new write", () -> c.store("n5").get("after-n5").isPresent());
            assertTrue(c.nodes.get(l).configuration().isLearner("n5"), "kept a learner");
            assertFalse(n5.role() == Role.LEADER);

            // Remove the leader: it steps down once the removal commits, and the others go on.
            String old = c.awaitLeader();
            c.nodes.get(old).proposeConfChange(ConfChange.remove(old)).get();
            InProcessCluster.await("a new leader among the remaining voters", () -> {
                String now = c.leader();
                return now != null && !now.equals(old);
            });
            String next = c.leader();
            assertNotEquals(old, next);
            assertFalse(c.nodes.get(next).configuration().isMember(old));
            c.nodes.get(next).propose(put("after-removal")).get();
            for (String id : List.of("n1", "n2", "n3", "n4", "n5")) {
                if (!id.equals(old)) {
                    InProcessCluster.await(id + " has the write after the removal", () -> c.store(id).get("after-removal").isPresent());
                }
            }
        }
    }
}
