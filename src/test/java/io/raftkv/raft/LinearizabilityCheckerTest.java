package io.raftkv.raft;

import static io.raftkv.raft.sim.LinearizabilityChecker.NEVER;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftkv.raft.sim.LinearizabilityChecker;
import io.raftkv.raft.sim.LinearizabilityChecker.Op;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The linearizability checker itself, on small hand-written histories. Times are logical: [call, return]. */
class LinearizabilityCheckerTest {

    private final LinearizabilityChecker checker = new LinearizabilityChecker();

    private boolean ok(Op... ops) {
        return checker.check(List.of(ops)).ok();
    }

    private static Op w(int id, String value, long call, long ret) {
        return Op.write(id, "x", value, call, ret);
    }

    private static Op r(int id, String value, long call, long ret) {
        return Op.read(id, "x", value, call, ret);
    }

    @Test
    void emptyAndSequentialHistories() {
        assertTrue(ok());
        assertTrue(ok(r(0, null, 1, 2)), "a register starts absent");
        assertTrue(ok(w(0, "1", 1, 2), r(1, "1", 3, 4), w(2, "2", 5, 6), r(3, "2", 7, 8)));
        assertFalse(ok(r(0, "1", 1, 2)), "a value nobody wrote");
        assertFalse(ok(w(0, "1", 1, 2), r(1, null, 3, 4)), "a write that completed must be visible");
    }

    @Test
    void rejectsAStaleRead() {
        // write 1 completes, then write 2 completes, then a read returns 1: stale.
        assertFalse(ok(w(0, "1", 1, 2), w(1, "2", 3, 4), r(2, "1", 5, 6)));
        // The same read overlapping write 2 is fine (it may be ordered before it).
        assertTrue(ok(w(0, "1", 1, 2), w(1, "2", 3, 6), r(2, "1", 5, 7)));
    }

    @Test
    void concurrentOperationsMayBeOrderedEitherWay() {
        assertTrue(ok(w(0, "1", 1, 4), w(1, "2", 2, 3), r(2, "1", 5, 6)));
        assertTrue(ok(w(0, "1", 1, 4), w(1, "2", 2, 3), r(2, "2", 5, 6)));
        // Two later sequential reads must agree with one order.
        assertFalse(ok(w(0, "1", 1, 4), w(1, "2", 2, 3), r(2, "1", 5, 6), r(3, "2", 7, 8), r(4, "1", 9, 10)));
    }

    @Test
    void readsMustNotGoBackInTime() {
        // Two concurrent reads during a write may disagree, but a read after a read of the new value may not see the old.
        assertTrue(ok(w(0, "1", 1, 2), w(1, "2", 3, 10), r(2, "2", 4, 5), r(3, "1", 4, 6)));
        assertFalse(ok(w(0, "1", 1, 2), w(1, "2", 3, 10), r(2, "2", 4, 5), r(3, "1", 6, 7)));
    }

    @Test
    void writesWithUnknownOutcome() {
        // A write that never returned may have taken effect...
        assertTrue(ok(w(0, "1", 1, 2), w(1, "2", 3, NEVER), r(2, "2", 5, 6)));
        // ...or not.
        assertTrue(ok(w(0, "1", 1, 2), w(1, "2", 3, NEVER), r(2, "1", 5, 6)));
        // But not before it was called.
        assertFalse(ok(w(0, "1", 1, 2), r(1, "2", 3, 4), w(2, "2", 5, NEVER)));
        // And once observed, it cannot be un-done.
        assertFalse(ok(w(0, "1", 1, 2), w(1, "2", 3, NEVER), r(2, "2", 5, 6), r(3, "1", 7, 8)));
    }

    @Test
    void keysAreIndependent() {
        List<Op> h = List.of(Op.write(0, "a", "1", 1, 2), Op.write(1, "b", "1", 3, 4), Op.read(2, "a", "1", 5, 6),
                Op.read(3, "b", null, 7, 8));
        LinearizabilityChecker.Result res = checker.check(h);
        assertFalse(res.ok());
        assertTrue(res.key().equals("b"), res.toString());
        assertTrue(checker.check(h.subList(0, 3)).ok());
    }

    @Test
    void manyConcurrentUnknownWritesStayTractable() {
        // 40 writes of unknown outcome, all concurrent with a long sequence of reads of a single written value.
        List<Op> h = new ArrayList<>();
        int id = 0;
        for (int i = 0; i < 40; i++) {
            h.add(w(id++, "u" + i, i + 1, NEVER));
        }
        h.add(w(id++, "final", 100, 101));
        for (int i = 0; i < 200; i++) {
            h.add(r(id++, "final", 200 + 2 * i, 201 + 2 * i));
        }
        assertTrue(checker.check(h).ok());
        h.add(r(id++, "u3", 1000, 1001)); // after reading "final" at 599: u3 may still land later
        assertTrue(checker.check(h).ok());
        h.add(r(id++, "final", 1002, 1003)); // ...but then "final" cannot come back
        LinearizabilityChecker.Result res = checker.check(h);
        assertFalse(res.ok());
        assertFalse(res.exhausted(), "a definite answer, not a search timeout");
    }

    @Test
    void manyObservedConcurrentWritesAreSearchedWithMemoization() {
        // 8 concurrent writes (known and unknown outcomes), then overlapping reads that observe them in the reverse
        // of their call order: the search tries the call order first, so it must backtrack through many orders, which
        // memoizing (linearized set, state) keeps to a few hundred thousand steps instead of (2n)! sequences.
        int n = 8;
        List<Op> h = new ArrayList<>();
        int id = 0;
        for (int i = 0; i < n; i++) {
            h.add(w(id++, "c" + i, 1 + i, i % 2 == 0 ? NEVER : 50));
        }
        for (int i = n - 1; i >= 0; i--) {
            h.add(r(id++, "c" + i, 20 + (n - 1 - i), 100 + (n - 1 - i)));
        }
        LinearizabilityChecker.Result res = checker.check(h);
        assertTrue(res.ok(), res.toString());
        // A later read of c0 is fine (c0's write has an unknown outcome and may land late)...
        h.add(r(id++, "c0", 200, 201));
        assertTrue(checker.check(h).ok());
        // ...but c5 (a completed write, at 50) cannot be current again after that.
        h.add(r(id, "c5", 202, 203));
        res = checker.check(h);
        assertFalse(res.ok(), "c5 cannot follow c0 here");
        assertFalse(res.exhausted(), "a definite answer, not a search timeout");
    }

    @Test
    void randomLinearizableHistoriesPassAndStaleReadsInThemAreCaught() {
        Random rnd = new Random(1);
        int corrupted = 0;
        for (int round = 0; round < 300; round++) {
            // A real execution: each op takes effect at an instant inside its [call, return] interval, in order.
            List<Op> h = new ArrayList<>();
            String state = null;
            long t = 0;
            for (int i = 0; i < 30; i++) {
                long call = t += 1 + rnd.nextInt(3);
                t += 1 + rnd.nextInt(3); // the effect
                long ret = t + 1 + rnd.nextInt(12);
                if (rnd.nextBoolean()) {
                    state = "v" + i;
                    h.add(w(i, state, call, ret));
                } else {
                    h.add(r(i, state, call, ret));
                }
            }
            assertTrue(checker.check(h).ok(), "round " + round + ": " + h);
            // Make the last read stale: return w1's value though w1 < w2 < read in real time.
            for (int i = h.size() - 1; i >= 0; i--) {
                Op read = h.get(i);
                if (read.write()) {
                    continue;
                }
                for (Op w1 : h) {
                    for (Op w2 : h) {
                        if (w1.write() && w2.write() && w1.ret() < w2.call() && w2.ret() < read.call()) {
                            List<Op> bad = new ArrayList<>(h);
                            bad.set(i, r(read.id(), w1.value(), read.call(), read.ret()));
                            assertFalse(checker.check(bad).ok(), "stale read accepted in round " + round + ": " + bad);
                            corrupted++;
                        }
                    }
                }
                break;
            }
        }
        assertTrue(corrupted > 100, "too few corrupted histories were tried: " + corrupted);
    }
}
