package io.raftkv.raft;

import java.util.Arrays;
import java.util.Objects;

/**
 * One single-server membership change, as an operator asks for it. Adding a voter takes two changes: add it as a
 * learner (it catches up on the log without affecting any quorum), then promote it, so the cluster never waits on
 * a voter that has nothing yet (dissertation 4.2.1).
 *
 * @param type    what to do
 * @param nodeId  the server it is done to
 * @param context opaque to the core, carried in the log with the change: the runtime's address of the member
 */
public record ConfChange(Type type, String nodeId, byte[] context) {

    /** The codes are part of the CONFIG entry encoding: never renumber. */
    public enum Type {
        /** A new member that receives the log but does not vote. */
        ADD_LEARNER(1),
        /** A learner becomes a voter. */
        PROMOTE(2),
        /** A voter or a learner leaves. */
        REMOVE(3),
        /**
         * Disaster recovery: the node named becomes the only voter and every other member leaves. Never proposed; a
         * node started with {@code raftkv.force-new-cluster=true} writes it into its own log (see ForceNewCluster).
         */
        FORCE_NEW_CLUSTER(4);

        public final int code;

        Type(int code) {
            this.code = code;
        }

        public static Type fromCode(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown configuration change type " + code);
        }
    }

    public ConfChange {
        Objects.requireNonNull(type, "type");
        if (nodeId == null || nodeId.isBlank()) {
            throw new IllegalArgumentException("a configuration change needs a node id");
        }
        context = context == null ? Entry.NO_DATA : context.clone();
    }

    public static ConfChange addLearner(String id, byte[] context) {
        return new ConfChange(Type.ADD_LEARNER, id, context);
    }

    public static ConfChange promote(String id) {
        return new ConfChange(Type.PROMOTE, id, null);
    }

    public static ConfChange forceNewCluster(String survivor) {
        return new ConfChange(Type.FORCE_NEW_CLUSTER, survivor, null);
    }

    public static ConfChange remove(String id) {
        return new ConfChange(Type.REMOVE, id, null);
    }

    @Override
    public byte[] context() {
        return context.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfChange c && c.type == type && c.nodeId.equals(nodeId) && Arrays.equals(c.context, context);
    }

    @Override
    public int hashCode() {
        return type.hashCode() * 31 + nodeId.hashCode();
    }

    @Override
    public String toString() {
        return type + " " + nodeId + (context.length == 0 ? "" : " (" + context.length + "B context)");
    }
}
