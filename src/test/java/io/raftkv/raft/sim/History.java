package io.raftkv.raft.sim;

import io.raftkv.raft.sim.LinearizabilityChecker.Kind;

import java.util.ArrayList;
import java.util.List;

/**
 * The client-visible history of a simulation run: invocations and responses of reads, writes, deletes and
 * compare-and-sets, in logical time. An operation is one client request, however many times the client sent it
 * (retries of a session write carry the same client id and sequence number): it is called when first sent and
 * returns when the client gets its answer.
 */
public final class History {

    public enum Status {
        /** Invoked, no response yet. */
        PENDING,
        /** Completed with a response. */
        OK,
        /** A write whose outcome will never be known (it may or may not have taken effect). */
        UNKNOWN,
        /**
         * Definitely had no effect (a read that got no answer; a write every attempt of which was answered "not
         * proposed" or "lost"): left out of the checked history, and checked never to have been applied.
         */
        FAILED
    }

    public static final class Op {
        final int id;
        final int client;
        final Kind kind;
        final String key;
        /** READ: the value returned; WRITE and CAS: the value written (CAS: null = it deletes). */
        String value;
        /** CAS: the value the key must hold (null: absent). */
        final String expect;
        /** CAS: whether its condition held; DELETE: whether the key existed. Null until known. */
        Boolean outcome;
        final long call;
        long ret = -1;
        Status status = Status.PENDING;
        /** Session writes: the client's id and this request's sequence number. */
        String clientId;
        long seq;

        Op(int id, int client, Kind kind, String key, String value, String expect, long call) {
            this.id = id;
            this.client = client;
            this.kind = kind;
            this.key = key;
            this.value = value;
            this.expect = expect;
            this.call = call;
        }

        boolean write() {
            return kind != Kind.READ;
        }

        @Override
        public String toString() {
            String what = switch (kind) {
                case READ -> "read(" + key + ")->" + value;
                case WRITE -> "write(" + key + "=" + value + ")";
                case DELETE -> "delete(" + key + ")" + (outcome == null ? "" : outcome ? "->existed" : "->absent");
                case CAS -> "cas(" + key + ": " + expect + "->" + value + ")" + (outcome == null ? "" : outcome ? "->ok" : "->failed");
            };
            return "#" + id + " c" + client + (clientId == null ? "" : "#" + seq) + " " + what + " [" + call + ","
                    + (ret < 0 ? "?" : String.valueOf(ret)) + "] " + status;
        }
    }

    private final List<Op> ops = new ArrayList<>();

    Op invoke(int client, Kind kind, String key, String value, String expect, long time) {
        Op op = new Op(ops.size(), client, kind, key, value, expect, time);
        ops.add(op);
        return op;
    }

    /** A response: a read's value, a delete's "existed", a compare-and-set's "condition held" (else ignored). */
    void complete(Op op, String readValue, Boolean outcome, long time) {
        if (op.status != Status.PENDING) {
            throw new IllegalStateException("completing " + op);
        }
        if (op.kind == Kind.READ) {
            op.value = readValue;
        } else {
            op.outcome = outcome;
        }
        op.ret = time;
        op.status = Status.OK;
    }

    /** The operation will never get a response: writes become "unknown outcome", reads are dropped. */
    void abandon(Op op) {
        if (op.status == Status.PENDING) {
            op.status = op.write() ? Status.UNKNOWN : Status.FAILED;
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
                case OK -> out.add(new LinearizabilityChecker.Op(op.id, op.key, op.kind, op.value, op.expect, op.outcome, op.call, op.ret));
                case PENDING, UNKNOWN -> {
                    if (op.write()) {
                        out.add(new LinearizabilityChecker.Op(op.id, op.key, op.kind, op.value, op.expect, null, op.call,
                                LinearizabilityChecker.NEVER));
                    }
                }
                case FAILED -> {
                }
            }
        }
        return out;
    }
}
