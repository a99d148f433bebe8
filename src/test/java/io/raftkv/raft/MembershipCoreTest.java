package io.raftkv.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.confchange.Changer;
import io.raftkv.raft.confchange.ConfChangeRefusedException;
import io.raftkv.raft.confchange.ConfChangeRefusedException.Reason;
import io.raftkv.raft.confchange.ConfigurationLog;
import io.raftkv.raft.quorum.MajorityQuorum;
import io.raftkv.raft.quorum.VoteResult;
import io.raftkv.raft.tracker.ProgressTracker;

import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The membership building blocks on their own: encodings, change rules, quorums, the configuration history. */
class MembershipCoreTest {

    private static final Configuration ABC = Configuration.ofVoters(List.of("c", "a", "b"));

    @Test
    void configurationsAreSortedAndTheirEncodingIsStable() {
        Configuration c = new Configuration(List.of("n2", "n1"), List.of("n3"));
        assertEquals(List.of("n1", "n2"), c.voters());
        // u8 version 1 | u32 2 | u16 2 "n1" | u16 2 "n2" | u32 1 | u16 2 "n3"
        assertEquals("01" + "00000002" + "0002" + "6e31" + "0002" + "6e32" + "00000001" + "0002" + "6e33",
                HexFormat.of().formatHex(c.encode()));
        assertEquals(c, Configuration.decode(c.encode()));
        assertThrows(IllegalArgumentException.class, () -> new Configuration(List.of("a"), List.of("a")));
        assertThrows(IllegalArgumentException.class, () -> Configuration.decode(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 0}));
        byte[] truncated = c.encode();
        assertThrows(IllegalArgumentException.class, () -> Configuration.decode(java.util.Arrays.copyOf(truncated, truncated.length - 1)));
    }

    @Test
    void configEntriesCarryTheChangeItsContextAndTheResult() {
        ConfChange add = ConfChange.addLearner("d", "http://d:8080".getBytes());
        ConfigEntry e = new ConfigEntry(add, Changer.apply(ABC, add));
        byte[] data = e.encode();
        assertEquals(1, data[0], "version byte");
        assertEquals(ConfChange.Type.ADD_LEARNER.code, data[1]);
        ConfigEntry back = ConfigEntry.decode(data);
        assertEquals(add, back.change());
        assertArrayEquals("http://d:8080".getBytes(), back.change().context());
        assertEquals(new Configuration(List.of("a", "b", "c"), List.of("d")), back.configuration());
        assertThrows(IllegalArgumentException.class, () -> ConfigEntry.decode(new byte[] {9}));
    }

    @Test
    void onlySingleServerChangesThatApply() {
        Configuration withD = Changer.apply(ABC, ConfChange.addLearner("d", null));
        Configuration promoted = Changer.apply(withD, ConfChange.promote("d"));
        assertEquals(List.of("a", "b", "c", "d"), promoted.voters());
        assertEquals(1, promoted.voterDistance(ABC));
        assertEquals(ABC, Changer.apply(withD, ConfChange.remove("d")));
        assertEquals(List.of("b", "c"), Changer.apply(ABC, ConfChange.remove("a")).voters());
        for (var bad : List.of(ConfChange.promote("a"), ConfChange.promote("zz"), ConfChange.addLearner("a", null), ConfChange.remove("zz"))) {
            assertEquals(Reason.INVALID, assertThrows(ConfChangeRefusedException.class, () -> Changer.apply(ABC, bad)).reason(), bad.toString());
        }
        Configuration one = Configuration.ofVoters(List.of("a"));
        assertThrows(ConfChangeRefusedException.class, () -> Changer.apply(one, ConfChange.remove("a")), "no voter left");
        ConfChange ok = ConfChange.addLearner("d", null);
        assertEquals(Reason.CHANGE_PENDING, assertThrows(ConfChangeRefusedException.class,
                () -> Changer.admit(ABC, ok, 8, 7, true, null)).reason());
        assertEquals(Reason.LEADER_NOT_READY, assertThrows(ConfChangeRefusedException.class,
                () -> Changer.admit(ABC, ok, 5, 7, false, null)).reason());
        assertEquals(Reason.TRANSFERRING_LEADERSHIP, assertThrows(ConfChangeRefusedException.class,
                () -> Changer.admit(ABC, ok, 5, 7, true, "b")).reason());
        assertEquals(withD, Changer.admit(ABC, ok, 5, 7, true, null));
    }

    @Test
    void majoritiesCountOnlyVoters() {
        MajorityQuorum q = new MajorityQuorum(List.of("a", "b", "c", "d"));
        assertEquals(3, q.size());
        Map<String, Long> match = Map.of("a", 9L, "b", 7L, "c", 5L, "d", 3L, "learner", 100L);
        assertEquals(5, q.committedIndex(match::get));
        assertEquals(VoteResult.PENDING, q.voteResult(Map.of("a", true, "b", true, "learner", true)));
        assertEquals(VoteResult.WON, q.voteResult(Map.of("a", true, "b", true, "c", true)));
        assertEquals(VoteResult.LOST, q.voteResult(Map.of("a", false, "b", false, "learner", true)));
        assertFalse(q.hasQuorum(id -> !id.equals("a") && !id.equals("b")));

        ProgressTracker t = new ProgressTracker("a", new Configuration(List.of("a", "b", "c"), List.of("l")), 4, 0);
        assertEquals(VoteResult.PENDING, t.recordVote("a", true));
        assertEquals(VoteResult.PENDING, t.recordVote("l", true), "a learner's vote counts for nothing");
        assertEquals(VoteResult.WON, t.recordVote("b", true));
        assertEquals(List.of("b", "c", "l"), t.peers());
        assertEquals(List.of("b", "c"), t.otherVoters());
    }

    private static Entry config(long index, Configuration c, ConfChange change) {
        return new Entry(1, index, EntryType.CONFIG, new ConfigEntry(change, c).encode());
    }

    @Test
    void theConfigurationFollowsAppendsTruncationsAndSnapshots() {
        ConfigurationLog log = new ConfigurationLog(0, ABC);
        Configuration withD = Changer.apply(ABC, ConfChange.addLearner("d", null));
        Configuration promoted = Changer.apply(withD, ConfChange.promote("d"));
        log.appended(List.of(Entry.noop(1, 1), config(2, withD, ConfChange.addLearner("d", null)), Entry.noop(1, 3)));
        assertEquals(withD, log.current());
        log.appended(List.of(config(4, promoted, ConfChange.promote("d"))));
        assertEquals(promoted, log.current());
        assertEquals(4, log.lastChangeIndex());
        assertEquals(withD, log.at(3));
        assertEquals(ABC, log.at(1));
        log.appended(List.of(Entry.noop(2, 4))); // entry 4 replaced: back to the configuration before it
        assertEquals(withD, log.current());
        assertEquals(2, log.lastChangeIndex());
        log.compact(3);
        assertEquals(withD, log.at(3));
        assertEquals(0, log.lastChangeIndex(), "the history before the snapshot is gone");
        assertThrows(IllegalArgumentException.class, () -> log.at(2));
        log.reset(10, promoted);
        assertEquals(promoted, log.current());
        assertTrue(log.current().isVoter("d"));
    }
}
