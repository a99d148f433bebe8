package io.raftkv.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.ConfigEntry;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Raft;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.raft.confchange.ConfigurationLog;
import io.raftkv.storage.RaftLogStore;
import io.raftkv.storage.RaftLogStores;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * raftkv.force-new-cluster: a survivor of a cluster that lost its quorum writes a forced single-voter configuration
 * into its own log, elects itself and commits what it holds, the uncommitted tail included.
 */
class ForceNewClusterTest {

    private static final Configuration ABC = Configuration.ofVoters(List.of("a", "b", "c"));

    @TempDir
    Path dir;

    /** A's log as a 3-voter member leaves it: 10 entries in term 3, committed through 6 (7..10 never committed). */
    private RaftLogStore survivorLog() {
        RaftLogStore log = RaftLogStores.open(RaftLogStores.Kind.SEGMENTED, dir, 1 << 20);
        List<Entry> entries = new ArrayList<>();
        entries.add(new Entry(1, 1, EntryType.CONFIG, new ConfigEntry(ConfChange.addLearner("c", null), ABC).encode()));
        for (long i = 2; i <= 10; i++) {
            entries.add(new Entry(i < 5 ? 1 : 3, i, EntryType.COMMAND, ("v" + i).getBytes(StandardCharsets.UTF_8)));
        }
        log.save(new HardState(4, "b", 6), entries);
        return log;
    }

    @Test
    void theSurvivorBecomesTheOnlyVoterAndCommitsEverythingItsLogHolds() throws Exception {
        Identity identity = Identity.open(dir, List.of("a", "b", "c"), "raftkv");
        String oldCluster = identity.clusterId();
        assertNull(identity.admit("b", oldCluster, "b-disk"));
        try (RaftLogStore log = survivorLog()) {
            ForceNewCluster.Outcome o = ForceNewCluster.apply(dir, log, SnapshotMeta.NONE, ABC, "a", identity);
            assertTrue(o.forced(), o.description());
            assertEquals(11, o.index());
            assertEquals(ABC, o.before());
            Entry forced = log.entries(11, 12, Long.MAX_VALUE).get(0);
            assertEquals(EntryType.CONFIG, forced.type());
            assertEquals(4, forced.term(), "the node's current term, not older than the last entry's");
            assertEquals(ConfChange.Type.FORCE_NEW_CLUSTER, ConfigEntry.decode(forced.data()).change().type());
            assertEquals(Configuration.ofVoters(List.of("a")),
                    ConfigurationLog.recover(log, SnapshotMeta.NONE, ABC).current());
            assertEquals(4, log.hardState().term(), "term and vote untouched");

            // Its new cluster id: old members with their old data are refused; their incarnations are forgotten.
            assertNotEquals(oldCluster, identity.clusterId());
            assertEquals(Identity.Refusal.CLUSTER, identity.admit("b", oldCluster, "b-disk"));
            assertNull(identity.peerIncarnation("b"));
            assertTrue(Files.exists(dir.resolve(ForceNewCluster.MARKER)));
            assertEquals(11, identity.forcedAt());
            assertEquals(11, Identity.open(dir, List.of(), "x").forcedAt());
            assertEquals(identity.clusterId(), Identity.open(dir, List.of(), "x").clusterId(), "durable");

            // Raft on that log: a single voter that elects itself and commits through its own term's first entry.
            Raft raft = new Raft(RaftConfig.defaults("a", List.of("a", "b", "c"), 0, new Random(1)), log);
            long committed = 0;
            for (int i = 0; i < 200 && committed < 12; i++) {
                raft.tick();
                while (raft.hasReady()) {
                    Ready rd = raft.ready();
                    log.save(rd.hardState(), rd.entries());
                    if (!rd.committedEntries().isEmpty()) {
                        committed = rd.committedEntries().get(rd.committedEntries().size() - 1).index();
                    }
                    assertTrue(rd.messages().isEmpty(), "a single voter sends nothing: " + rd.messages());
                    raft.advance(rd);
                }
            }
            assertEquals(Role.LEADER, raft.role());
            assertEquals(12, raft.commitIndex(), "the never-committed 7..10 and the forced entry commit with its no-op");
            assertTrue(raft.status().term() > 4);
        }
    }

    @Test
    void theFlagActsOncePerDataDirectoryAndNotOnAnEmptyOne() throws Exception {
        Identity identity = Identity.open(dir, List.of("a", "b", "c"), "raftkv");
        try (RaftLogStore log = survivorLog()) {
            assertTrue(ForceNewCluster.apply(dir, log, SnapshotMeta.NONE, ABC, "a", identity).forced());
            String cluster = identity.clusterId();
            // Members added back since; the flag left set in the pod spec must not undo them at the next restart.
            ForceNewCluster.Outcome again = ForceNewCluster.apply(dir, log, SnapshotMeta.NONE, ABC, "a", identity);
            assertFalse(again.forced());
            assertTrue(again.description().contains("ignored"), again.description());
            assertEquals(11, log.lastIndex());
            assertEquals(cluster, identity.clusterId());
        }
        Path empty = dir.resolve("empty");
        Identity fresh = Identity.open(empty, List.of("a", "b", "c"), "raftkv");
        try (RaftLogStore log = RaftLogStores.open(RaftLogStores.Kind.SEGMENTED, empty, 1 << 20)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ForceNewCluster.apply(empty, log, SnapshotMeta.NONE, ABC, "a", fresh));
            assertTrue(e.getMessage().contains("nothing to recover"), e.getMessage());
        }
    }

    @Test
    void aForcedChangeIsNeverProposed() {
        var e = assertThrows(io.raftkv.raft.confchange.ConfChangeRefusedException.class, () -> io.raftkv.raft.confchange.Changer
                .admit(ABC, ConfChange.forceNewCluster("a"), 0, 5, true, null));
        assertEquals(io.raftkv.raft.confchange.ConfChangeRefusedException.Reason.INVALID, e.reason());
    }
}
