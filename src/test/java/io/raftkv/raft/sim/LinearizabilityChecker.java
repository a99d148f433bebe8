package io.raftkv.raft.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A linearizability checker for a key-value store whose model is one register per key (initially absent, read as
 * {@code null}) with four kinds of operation: read, write (put), delete, and compare-and-set (a put or a delete that
 * takes effect only if the key's value is the expected one, or the key is absent). It is the Wing-Gong algorithm with
 * Lowe's improvements: depth-first search over which pending operation to linearize next, on a linked list of
 * call/return events, with memoization of the pairs (set of linearized operations, register state) already explored.
 * Histories are split per key first (a register-per-key model is P-compositional: the whole history is linearizable
 * iff every key's sub-history is).
 * <p>
 * A failed compare-and-set is a read-like observation (the key did not hold the expected value at its point), a
 * delete may report whether the key existed. Operations whose outcome is unknown (a write whose command may or may not
 * have been committed) have no response: their return is at infinity, so they may be linearized anywhere after their
 * call, including "never" (at the end, where nothing observes them); an unknown compare-and-set takes effect where it
 * is linearized only if its condition holds there.
 * <p>
 * Versions (compare-and-set on the key's version) are expressed as values: with every written value unique, a key has
 * version v exactly while it holds the value the write at v wrote, so the caller translates "version v" into "the
 * value the reader saw with version v".
 */
public final class LinearizabilityChecker {

    /** Return time of an operation that never returned. */
    public static final long NEVER = Long.MAX_VALUE;

    public enum Kind {
        READ, WRITE, DELETE, CAS
    }

    /**
     * One operation. Times are logical and distinct: {@code call < ret}; {@code ret == NEVER} for an operation with an
     * unknown outcome (which then observes nothing: {@code outcome} null).
     *
     * @param value   READ: the value returned ({@code null} = absent); WRITE: the value written; CAS: the value it
     *                writes if its condition holds ({@code null}: it deletes the key)
     * @param expect  CAS only: the value the key must hold ({@code null}: the key must be absent)
     * @param outcome CAS: whether the condition held (null: unknown); DELETE: whether the key existed (null: unknown)
     */
    public record Op(int id, String key, Kind kind, String value, String expect, Boolean outcome, long call, long ret) {

        public static Op write(int id, String key, String value, long call, long ret) {
            return new Op(id, key, Kind.WRITE, value, null, null, call, ret);
        }

        public static Op read(int id, String key, String value, long call, long ret) {
            return new Op(id, key, Kind.READ, value, null, null, call, ret);
        }

        /** An unconditional delete; {@code existed}: what it reported (null: unknown). */
        public static Op delete(int id, String key, Boolean existed, long call, long ret) {
            return new Op(id, key, Kind.DELETE, null, null, existed, call, ret);
        }

        /** A compare-and-set: if the key holds {@code expect}, it becomes {@code value}; {@code ok}: whether it did. */
        public static Op cas(int id, String key, String expect, String value, Boolean ok, long call, long ret) {
            return new Op(id, key, Kind.CAS, value, expect, ok, call, ret);
        }

        public boolean write() {
            return kind == Kind.WRITE;
        }

        @Override
        public String toString() {
            String what = switch (kind) {
                case READ -> "read(" + key + ")->" + value;
                case WRITE -> "write(" + key + "=" + value + ")";
                case DELETE -> "delete(" + key + ")" + (outcome == null ? "" : outcome ? "->existed" : "->absent");
                case CAS -> "cas(" + key + ": " + expect + "->" + value + ")" + (outcome == null ? "" : outcome ? "->ok" : "->failed");
            };
            return "#" + id + " " + what + " [" + call + "," + (ret == NEVER ? "inf" : String.valueOf(ret)) + "]";
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
            if (op.ret() == NEVER && (op.kind() == Kind.READ || op.outcome() != null)) {
                throw new IllegalArgumentException("an operation that never returned observed something: " + op);
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

    /** The register's next state if {@code op} is linearized in {@code state}, or {@link #ILLEGAL}. */
    private static String step(Op op, String state) {
        return switch (op.kind()) {
            case READ -> Objects.equals(state, op.value()) ? state : ILLEGAL;
            case WRITE -> op.value();
            case DELETE -> op.outcome() == null || op.outcome() == (state != null) ? null : ILLEGAL;
            case CAS -> {
                boolean holds = Objects.equals(state, op.expect());
                if (op.outcome() == null) {
                    yield holds ? op.value() : state;
                }
                yield op.outcome() == holds ? (holds ? op.value() : state) : ILLEGAL;
            }
        };
    }

    /** Marks an illegal step (compared by identity). */
    private static final String ILLEGAL = new String("<illegal>");

    /**
     * Drops operations of unknown outcome whose effect nothing could observe. Such an operation U (writing y: a write,
     * an unknown compare-and-set, or an unknown delete with y = absent) can always be linearized last, where nothing
     * observes it; and a linearization that places it earlier stays valid without it, provided no operation between it
     * and the next change benefits from y: no read returned y, no compare-and-set expected y, no delete reported the
     * key absent if y is absent, and no operation that could follow U benefits from "the key holds something other
     * than before": a failed compare-and-set (the key was not e) or, for y present, a delete that found the key. (An
     * unknown compare-and-set that would now take effect where it did not can be moved to the end instead.) Repeated
     * until nothing changes. Without this, a few dozen concurrent unknown writes make the search exponential.
     */
    private static List<Op> withoutUnobservedUnknownWrites(List<Op> ops) {
        List<Op> cur = ops;
        while (true) {
            Set<String> observed = new HashSet<>();
            boolean absentObserved = false;
            long lastFailedCas = Long.MIN_VALUE;
            long lastFoundDelete = Long.MIN_VALUE;
            for (Op op : cur) {
                switch (op.kind()) {
                    case READ -> {
                        if (op.value() == null) {
                            absentObserved = true;
                        } else {
                            observed.add(op.value());
                        }
                    }
                    case CAS -> {
                        if (op.expect() == null) {
                            absentObserved = true;
                        } else {
                            observed.add(op.expect());
                        }
                        if (Boolean.FALSE.equals(op.outcome())) {
                            lastFailedCas = Math.max(lastFailedCas, op.ret());
                        }
                    }
                    case DELETE -> {
                        if (Boolean.FALSE.equals(op.outcome())) {
                            absentObserved = true;
                        } else if (Boolean.TRUE.equals(op.outcome())) {
                            lastFoundDelete = Math.max(lastFoundDelete, op.ret());
                        }
                    }
                    case WRITE -> {
                    }
                }
            }
            List<Op> out = new ArrayList<>(cur.size());
            for (Op op : cur) {
                boolean unknownChange = op.ret() == NEVER && op.kind() != Kind.READ;
                String y = op.kind() == Kind.DELETE ? null : op.value();
                boolean drop = unknownChange
                        && (y == null ? !absentObserved : !observed.contains(y))
                        && lastFailedCas < op.call()
                        && (y == null || lastFoundDelete < op.call());
                if (!drop) {
                    out.add(op);
                }
            }
            if (out.size() == cur.size()) {
                return out;
            }
            cur = out;
        }
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

    private record Frame(Event call, String state, long classesTried) {
    }

    /** The register state of every value nothing observes (no read returned it, no compare-and-set expected it). */
    private static final String UNOBSERVED = "\u0000unobserved";

    /**
     * Symmetry: operations of unknown outcome that have the same effect on the (abstracted) register are
     * interchangeable (they are all called at any point where the search may pick one, and may all be linearized
     * anywhere after), so at each choice point only the first of each class is tried. Classes: writes of an unobserved
     * value; deletes; compare-and-sets with the same expected value writing an unobserved value, or deleting. At most
     * 64 classes, -1 for no class.
     */
    private static int[] symmetryClasses(List<Op> ops, Set<String> observed) {
        Map<String, Integer> ids = new HashMap<>();
        int[] cls = new int[ops.size()];
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            String key = null;
            if (op.ret() == NEVER) {
                boolean unobserved = op.value() != null && !observed.contains(op.value());
                key = switch (op.kind()) {
                    case WRITE -> unobserved ? "W" : null;
                    case DELETE -> "D";
                    case CAS -> op.value() == null ? "CD:" + op.expect() : unobserved ? "C:" + op.expect() : null;
                    case READ -> null;
                };
            }
            Integer id = key == null ? null : ids.computeIfAbsent(key, k -> ids.size());
            cls[i] = id == null || id >= 64 ? -1 : id;
        }
        return cls;
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

        Set<String> observed = new HashSet<>();
        for (Op op : ops) {
            if (op.kind() == Kind.READ && op.value() != null) {
                observed.add(op.value());
            } else if (op.kind() == Kind.CAS && op.expect() != null) {
                observed.add(op.expect());
            }
        }
        int[] cls = symmetryClasses(ops, observed);
        long tried = 0; // the classes already tried at this choice point

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
                int k = cls[entry.opIndex];
                if (k >= 0) {
                    if ((tried & (1L << k)) != 0) {
                        entry = entry.next; // an interchangeable operation was tried here already
                        continue;
                    }
                    tried |= 1L << k;
                }
                String newState = step(entry.op, state);
                if (newState != ILLEGAL) {
                    if (newState != null && !observed.contains(newState)) {
                        newState = UNOBSERVED; // every unobserved value behaves the same from here on
                    }
                    linearized.set(entry.opIndex);
                    if (cache.add(new CacheKey((BitSet) linearized.clone(), newState))) {
                        stack.push(new Frame(entry, state, tried));
                        state = newState;
                        lift(entry);
                        entry = head.next;
                        tried = 0;
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
                tried = f.classesTried();
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
