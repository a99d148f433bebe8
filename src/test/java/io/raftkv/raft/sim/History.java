package io.raftkv.raft.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The client-visible history of a simulation run: invocations and responses of reads and writes, in logical time.
 */
public final class History {

    public enum Status {
        /** Invoked, no response yet. */
        PENDING,
        /** Completed with a response. */
        OK,
        /** A write whose outcome will never be known (it may or may not have taken effect). */
        UNKNOWN,
        /** Definitely had no effect (a read that failed or was abandoned): left out of the checked history. */
        FAILED
    }

    public static final class Op {
        final int id;
        final int client;
        final String key;
        final boolean write;
        String value;
        final long call;
        long ret = -1;
        Status status = Status.PENDING;

        Op(int id, int client, String key, boolean write, String value, long call) {
            this.id = id;
            this.client = client;
            this.key = key;
            this.write = write;
            this.value = value;
            this.call = call;
        }

        @Override
        public String toString() {
            return "#" + id + " c" + client + " " + (write ? "write(" + key + "=" + value + ")" : "read(" + key + ")->" + value)
                    + " [" + call + "," + (ret < 0 ? "?" : String.valueOf(ret)) + "] " + status;
        }
    }

    private final List<Op> ops = new ArrayList<>();

    Op invoke(int client, String key, boolean write, String value, long time) {
        Op op = new Op(ops.size(), client, key, write, value, time);
        ops.add(op);
        return op;
    }

    void complete(Op op, String readValue, long time) {
        if (op.status != Status.PENDING) {
            throw new IllegalStateException("completing " + op);
        }
        if (!op.write) {
            op.value = readValue;
        }
        op.ret = time;
        op.status = Status.OK;
    }

    /** The operation will never get a response: writes become "unknown outcome", reads are dropped. */
    void abandon(Op op) {
        if (op.status == Status.PENDING) {
            op.status = op.write ? Status.UNKNOWN : Status.FAILED;
        }
    }

    /** The operation definitely had no effect. */
    void fail(Op op) {
        if (op.status == Status.PENDING) {
            op.status = Status.FAILED;
        }
    }

    public List<Op> ops() {
        return ops;
    }

    public long count(Status s) {
        return ops.stream().filter(o -> o.status == s).count();
    }

    /** The history as the checker sees it: completed ops, plus writes with an unknown outcome (return at infinity). */
    public List<LinearizabilityChecker.Op> forChecker() {
        List<LinearizabilityChecker.Op> out = new ArrayList<>();
        for (Op op : ops) {
            switch (op.status) {
                case OK -> out.add(new LinearizabilityChecker.Op(op.id, op.key, op.write, op.value, op.call, op.ret));
                case PENDING, UNKNOWN -> {
                    if (op.write) {
                        out.add(new LinearizabilityChecker.Op(op.id, op.key, true, op.value, op.call, LinearizabilityChecker.NEVER));
                    }
                }
                case FAILED -> {
                }
            }
        }
        return out;
    }
}
