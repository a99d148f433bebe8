package io.raftkv.raft.tracker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Flow control of one follower: by messages and bytes in flight, and a slow follower told apart from a lost one. */
class ProgressTest {

    private static Progress replicating(int maxInflight, long maxBytes) {
        Progress p = new Progress(1, maxInflight, maxBytes);
        p.appendAccepted(0); // the probe found the match point: pipelining from index 1
        assertEquals(Progress.State.REPLICATE, p.state());
        return p;
    }

    @Test
    void appendsInFlightAreBoundedByBytesAsWellAsByCount() {
        Progress p = replicating(256, 3 << 20);
        for (int i = 1; i <= 3; i++) {
            assertFalse(p.isPaused(), "after " + (i - 1) + " MiB");
            p.sentEntries(i, 1 << 20);
        }
        assertTrue(p.isPaused(), "3 MiB in flight: the bound, although only 3 of 256 messages are out");
        assertEquals(3 << 20, p.inflightBytes());
        p.maybeUpdate(2); // two acknowledged: their bytes are free again
        assertEquals(1 << 20, p.inflightBytes());
        assertFalse(p.isPaused());
        Progress unbounded = replicating(4, 0);
        for (int i = 1; i <= 4; i++) {
            unbounded.sentEntries(i, 100L << 20);
        }
        assertTrue(unbounded.isPaused(), "the count bound still holds");
        p.becomeProbe();
        assertEquals(0, p.inflightBytes(), "probing forgets what was in flight");
    }

    @Test
    void aFollowerThatLostAnAppendIsProbedAgainAfterTwoHeartbeatRounds() {
        Progress p = replicating(256, 0);
        p.sentEntries(10, 100);
        p.heartbeatWhileBehind();
        p.heartbeatWhileBehind();
        assertEquals(Progress.State.REPLICATE, p.state());
        p.heartbeatWhileBehind();
        assertEquals(Progress.State.PROBE, p.state(), "matchIndex stuck for two rounds with appends out");
        Progress q = replicating(256, 0);
        q.sentEntries(10, 100);
        q.heartbeatWhileBehind();
        q.maybeUpdate(5); // moving: not stuck
        q.heartbeatWhileBehind();
        q.heartbeatWhileBehind();
        assertEquals(Progress.State.REPLICATE, q.state());
    }
}
