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

    // ------------------------------------------------------------------------------------------- CAS and delete

    private static Op cas(int id, String expect, String value, Boolean ok, long call, long ret) {
        return Op.cas(id, "x", expect, value, ok, call, ret);
    }

    private static Op del(int id, Boolean existed, long call, long ret) {
        return Op.delete(id, "x", existed, call, ret);
    }

    @Test
    void compareAndSetSequentially() {
        assertTrue(ok(w(0, "a", 1, 2), cas(1, "a", "b", true, 3, 4), r(2, "b", 5, 6)));
        assertTrue(ok(cas(0, null, "a", true, 1, 2), r(1, "a", 3, 4)), "a CAS on an absent key");
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "z", "b", true, 3, 4)), "a CAS that succeeded though the key held another value");
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", "b", true, 3, 4), r(2, "a", 5, 6)), "a successful CAS must be visible");
        // Two CASes from the same expected value cannot both succeed (a lost update), in either order or concurrently.
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", "b", true, 3, 4), cas(2, "a", "c", true, 5, 6)));
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", "b", true, 3, 6), cas(2, "a", "c", true, 4, 5)));
        // Unless a write of the expected value comes between.
        assertTrue(ok(w(0, "a", 1, 2), cas(1, "a", "b", true, 3, 4), w(2, "a", 5, 6), cas(3, "a", "c", true, 7, 8)));
    }

    @Test
    void aFailedCompareAndSetIsAnObservation() {
        assertTrue(ok(w(0, "a", 1, 2), cas(1, "z", "b", false, 3, 4), r(2, "a", 5, 6)), "it changes nothing");
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", "b", false, 3, 4)), "it failed though the key held the expected value");
        assertFalse(ok(cas(0, null, "b", false, 1, 2)), "it failed though the key was absent, as expected");
        // It may fail because of a concurrent write...
        assertTrue(ok(w(0, "a", 1, 2), w(1, "c", 3, 6), cas(2, "a", "b", false, 4, 5)));
        // ...which must then come before it: a later read of the old value is stale.
        assertFalse(ok(w(0, "a", 1, 2), w(1, "c", 3, 6), cas(2, "a", "b", false, 4, 5), r(3, "a", 7, 8)));
        // A CAS with an unknown outcome may have happened, or not.
        assertTrue(ok(w(0, "a", 1, 2), cas(1, "a", "b", null, 3, NEVER), r(2, "b", 5, 6)));
        assertTrue(ok(w(0, "a", 1, 2), cas(1, "a", "b", null, 3, NEVER), r(2, "a", 5, 6)));
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", "b", null, 3, NEVER), r(2, "b", 5, 6), r(3, "a", 7, 8)));
        // And it takes effect only where its condition holds.
        assertFalse(ok(w(0, "a", 1, 2), w(1, "c", 3, 4), cas(2, "a", "b", null, 5, NEVER), r(3, "b", 7, 8)));
    }

    @Test
    void deletes() {
        assertTrue(ok(w(0, "a", 1, 2), del(1, true, 3, 4), r(2, null, 5, 6)));
        assertFalse(ok(w(0, "a", 1, 2), del(1, true, 3, 4), r(2, "a", 5, 6)), "a completed delete must be visible");
        assertFalse(ok(w(0, "a", 1, 2), del(1, false, 3, 4)), "it reported the key absent though it held a value");
        assertFalse(ok(del(0, true, 1, 2)), "it reported a key nobody wrote");
        assertTrue(ok(del(0, null, 1, 2), r(1, null, 3, 4)), "its report may be unknown");
        // A conditional delete is a CAS to absent.
        assertTrue(ok(w(0, "a", 1, 2), cas(1, "a", null, true, 3, 4), r(2, null, 5, 6), cas(3, null, "b", true, 7, 8)));
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", null, true, 3, 4), cas(2, null, "b", false, 5, 6)));
        // A delete of unknown outcome may land late: read a, then absent, is fine; absent then a again is not.
        assertTrue(ok(w(0, "a", 1, 2), del(1, null, 3, NEVER), r(2, "a", 5, 6), r(3, null, 7, 8)));
        assertFalse(ok(w(0, "a", 1, 2), del(1, null, 3, NEVER), r(2, null, 5, 6), r(3, "a", 7, 8)));
    }

    @Test
    void unknownWritesThatOnlyAFailedCasNeedsAreKept() {
        // The unknown write of y is observed by nothing directly, but the failed CAS (expecting a) needs it first.
        assertTrue(ok(w(0, "a", 1, 2), w(1, "y", 3, NEVER), cas(2, "a", "b", false, 4, 5)));
        // So does a delete that found the key, after one that removed it.
        assertTrue(ok(w(0, "a", 1, 2), del(1, true, 3, 4), w(2, "y", 5, NEVER), del(3, true, 6, 7)));
        // But not if that CAS returned before the write was even called.
        assertFalse(ok(w(0, "a", 1, 2), cas(1, "a", "b", false, 3, 4), w(2, "y", 5, NEVER)));
    }

    @Test
    void randomHistoriesAgreeWithExhaustiveSearch() {
        // Small random histories of every kind, with random answers (so about half are not linearizable), checked
        // against a brute-force search over every order consistent with real time.
        Random rnd = new Random(7);
        int yes = 0;
        int no = 0;
        for (int round = 0; round < 4000; round++) {
            List<Op> h = new ArrayList<>();
            String[] values = {null, "a", "b", "c"};
            int n = 2 + rnd.nextInt(6);
            long t = 0;
            for (int i = 0; i < n; i++) {
                long call = t += 1 + rnd.nextInt(2);
                long ret = rnd.nextInt(round % 2 == 0 ? 6 : 3) == 0 ? NEVER : call + 1 + rnd.nextInt(6);
                boolean unknown = ret == NEVER;
                // Now and then a value nobody reads or expects (as most unknown writes in the simulation).
                String v = rnd.nextInt(3) == 0 ? "u" + i : values[rnd.nextInt(values.length)];
                String e = values[rnd.nextInt(values.length)];
                Boolean b = unknown ? null : rnd.nextBoolean();
                h.add(switch (rnd.nextInt(unknown ? 3 : 4)) {
                    case 0 -> Op.write(i, "x", v == null ? "a" : v, call, ret);
                    case 1 -> Op.cas(i, "x", e, v, b, call, ret);
                    case 2 -> Op.delete(i, "x", unknown || rnd.nextInt(3) == 0 ? null : b, call, ret);
                    default -> Op.read(i, "x", v, call, ret);
                });
            }
            boolean expected = bruteForce(h, new boolean[h.size()], null, 0);
            LinearizabilityChecker.Result res = checker.check(h);
            assertTrue(res.ok() == expected, "round " + round + ": checker says " + res + ", exhaustive search " + expected + ": " + h);
            if (expected) {
                yes++;
            } else {
                no++;
            }
        }
        assertTrue(yes > 500 && no > 500, yes + " linearizable, " + no + " not");
    }

    /** Whether the not yet placed ops can follow, in some real-time-consistent order, from {@code state}. */
    private static boolean bruteForce(List<Op> h, boolean[] placed, String state, int done) {
        if (done == h.size()) {
            return true;
        }
        for (int i = 0; i < h.size(); i++) {
            if (placed[i]) {
                continue;
            }
            Op op = h.get(i);
            boolean minimal = true;
            for (int j = 0; j < h.size() && minimal; j++) {
                minimal = placed[j] || h.get(j).ret() >= op.call();
            }
            if (!minimal) {
                continue; // some unplaced op returned before this one was called
            }
            String next;
            boolean legal;
            switch (op.kind()) {
                case READ -> {
                    legal = java.util.Objects.equals(state, op.value());
                    next = state;
                }
                case WRITE -> {
                    legal = true;
                    next = op.value();
                }
                case DELETE -> {
                    legal = op.outcome() == null || op.outcome() == (state != null);
                    next = null;
                }
                default -> {
                    boolean holds = java.util.Objects.equals(state, op.expect());
                    legal = op.outcome() == null || op.outcome() == holds;
                    next = holds ? op.value() : state;
                }
            }
            if (legal) {
                placed[i] = true;
                boolean rest = bruteForce(h, placed, next, done + 1);
                placed[i] = false;
                if (rest) {
                    return true;
                }
            }
        }
        return false;
    }
}
