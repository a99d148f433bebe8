package io.raftkv.raft.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A linearizability checker for a key-value store whose model is one register per key (initially absent, read as
 * {@code null}). It is the Wing-Gong algorithm with Lowe's improvements: depth-first search over which pending
 * operation to linearize next, on a linked list of call/return events, with memoization of the pairs (set of
 * linearized operations, register state) already explored. Histories are split per key first (a register-per-key
 * model is P-compositional: the whole history is linearizable iff every key's sub-history is).
 * <p>
 * Operations whose outcome is unknown (a write whose command may or may not have been committed) have no response:
 * their return is at infinity, so they may be linearized anywhere after their call, including "never" (at the end,
 * where nothing observes them).
 */
public final class LinearizabilityChecker {

    /** Return time of an operation that never returned. */
    public static final long NEVER = Long.MAX_VALUE;

    /**
     * One operation. A write sets {@code value}; a read returned {@code value} ({@code null} = absent). Times are
     * logical and distinct: {@code call < ret}; {@code ret == NEVER} for an operation with an unknown outcome.
     */
    public record Op(int id, String key, boolean write, String value, long call, long ret) {

        public static Op write(int id, String key, String value, long call, long ret) {
            return new Op(id, key, true, value, call, ret);
        }

        public static Op read(int id, String key, String value, long call, long ret) {
            return new Op(id, key, false, value, call, ret);
        }

        @Override
        public String toString() {
            return "#" + id + " " + (write ? "write(" : "read(") + key + (write ? "=" + value + ")" : ")->" + value)
                    + " [" + call + "," + (ret == NEVER ? "inf" : String.valueOf(ret)) + "]";
        }
    }

    /** The outcome: ok, or the first key whose history is not linearizable (with its operations). */
    public record Result(boolean ok, String key, List<Op> ops, boolean exhausted) {

        @Override
        public String toString() {
            if (ok) {
                return "linearizable";
            }
            StringBuilder sb = new StringBuilder(exhausted ? "search budget exhausted for key " : "NOT linearizable: key ");
            sb.append(key).append(", ").append(ops.size()).append(" ops:");
            ops.stream().sorted(Comparator.comparingLong(Op::call)).forEach(o -> sb.append("\n  ").append(o));
            return sb.toString();
        }
    }

    private final long budget;

    public LinearizabilityChecker() {
        this(5_000_000);
    }

    /** @param budget upper bound on search steps per key (a guard against pathological histories) */
    public LinearizabilityChecker(long budget) {
        this.budget = budget;
    }

    public Result check(List<Op> history) {
        Map<String, List<Op>> byKey = new TreeMap<>();
        for (Op op : history) {
            if (op.call() >= op.ret()) {
                throw new IllegalArgumentException("operation returns before it is called: " + op);
            }
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        for (Map.Entry<String, List<Op>> e : byKey.entrySet()) {
            int verdict = checkRegister(withoutUnobservedUnknownWrites(e.getValue()));
            if (verdict != 1) {
                return new Result(false, e.getKey(), e.getValue(), verdict < 0);
            }
        }
        return new Result(true, null, List.of(), false);
    }

    /**
     * Drops writes of unknown outcome whose value no read returned. This changes no verdict: such a write can always
     * be linearized last (where nothing observes it), and a linearization that places it earlier stays valid without
     * it (no read sits between it and the next write, since none returned its value). Without this, a few dozen
     * concurrent unknown writes make the search exponential.
     */
    private static List<Op> withoutUnobservedUnknownWrites(List<Op> ops) {
        Set<String> read = new HashSet<>();
        for (Op op : ops) {
            if (!op.write() && op.value() != null) {
                read.add(op.value());
            }
        }
        List<Op> out = new ArrayList<>(ops.size());
        for (Op op : ops) {
            if (!(op.write() && op.ret() == NEVER && !read.contains(op.value()))) {
                out.add(op);
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static final class Event {
        final Op op;
        final int opIndex;
        final boolean call;
        final long time;
        Event match;
        Event prev;
        Event next;

        Event(Op op, int opIndex, boolean call, long time) {
            this.op = op;
            this.opIndex = opIndex;
            this.call = call;
            this.time = time;
        }
    }

    private record CacheKey(BitSet linearized, String state) {
    }

    private record Frame(Event call, String state) {
    }

    /** 1 = linearizable, 0 = not, -1 = budget exhausted. */
    private int checkRegister(List<Op> ops) {
        List<Event> events = new ArrayList<>(ops.size() * 2);
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Event c = new Event(op, i, true, op.call());
            Event r = new Event(op, i, false, op.ret());
            c.match = r;
            r.match = c;
            events.add(c);
            events.add(r);
        }
        // Calls before returns at equal times (only possible among returns at infinity, where order is irrelevant).
        events.sort(Comparator.comparingLong((Event ev) -> ev.time).thenComparing(ev -> !ev.call).thenComparingInt(ev -> ev.opIndex));
        Event head = new Event(null, -1, true, Long.MIN_VALUE);
        Event tail = head;
        for (Event ev : events) {
            tail.next = ev;
            ev.prev = tail;
            tail = ev;
        }

        Set<CacheKey> cache = new HashSet<>();
        Deque<Frame> stack = new ArrayDeque<>();
        BitSet linearized = new BitSet(ops.size());
        String state = null;
        Event entry = head.next;
        long steps = 0;
        while (head.next != null) {
            if (++steps > budget) {
                return -1;
            }
            if (entry.call) {
                Op op = entry.op;
                boolean ok = op.write() || Objects.equals(state, op.value());
                String newState = op.write() ? op.value() : state;
                if (ok) {
                    linearized.set(entry.opIndex);
                    if (cache.add(new CacheKey((BitSet) linearized.clone(), newState))) {
                        stack.push(new Frame(entry, state));
                        state = newState;
                        lift(entry);
                        entry = head.next;
                        continue;
                    }
                    linearized.clear(entry.opIndex);
                }
                entry = entry.next;
            } else {
                // A return whose call is not linearized yet: this branch is dead, undo the last choice.
                if (stack.isEmpty()) {
                    return 0;
                }
                Frame f = stack.pop();
                state = f.state();
                linearized.clear(f.call().opIndex);
                unlift(f.call());
                entry = f.call().next;
            }
        }
        return 1;
    }

    private static void lift(Event call) {
        call.prev.next = call.next;
        call.next.prev = call.prev; // a call is always followed by (at least) its own return
        Event ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    private static void unlift(Event call) {
        Event ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        call.next.prev = call;
    }
}
