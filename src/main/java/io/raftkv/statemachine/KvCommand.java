package io.raftkv.statemachine;

import io.raftkv.storage.BinaryReader;
import io.raftkv.storage.BinaryWriter;

import java.util.Arrays;
import java.util.Objects;

/**
 * A client write as carried in a {@code COMMAND} log entry: a put or delete of one key, optionally conditional
 * (compare-and-set), and optionally tagged with the client's id and request sequence number (for future duplicate
 * detection; the state machine does not use them yet).
 * <p>
 * Binary format ({@link #encode()} / {@link #decode(byte[])}), integers as unsigned LEB128 varints, strings as
 * length-prefixed UTF-8:
 * <pre>
 *   byte    format version (1)
 *   byte    operation: 1 put, 2 delete
 *   byte    flags: bit 0 = has client id
 *   string  key
 *   bytes   value                      (put only)
 *   byte    condition: 0 none, 1 version, 2 value
 *   varint  expected version           (condition 1)
 *   bytes   expected value             (condition 2)
 *   string  client id, varint sequence (flag bit 0)
 * </pre>
 *
 * @param op        what to do
 * @param key       the key (any string that is valid Unicode)
 * @param value     the new value for a put; null for a delete. Must not be modified after construction
 * @param condition when the command may take effect; never null ({@link Condition#NONE} for unconditional)
 * @param clientId  the client's id, or null
 * @param sequence  the client's request sequence number (0 when there is no client id)
 */
public record KvCommand(Op op, String key, byte[] value, Condition condition, String clientId, long sequence) {

    public static final int FORMAT_VERSION = 1;

    public enum Op {
        PUT(1),
        DELETE(2);

        public final int code;

        Op(int code) {
            this.code = code;
        }
    }

    /** When a command takes effect. */
    public sealed interface Condition permits NoCondition, VersionIs, ValueIs {

        /** Always. */
        Condition NONE = new NoCondition();

        /** Only if the key's version is {@code version}; 0 means "only if the key does not exist". */
        static Condition version(long version) {
            return new VersionIs(version);
        }

        /** Only if the key does not exist. */
        static Condition absent() {
            return new VersionIs(0);
        }

        /** Only if the key exists with exactly this value. */
        static Condition value(byte[] value) {
            return new ValueIs(value);
        }
    }

    public record NoCondition() implements Condition {
    }

    public record VersionIs(long version) implements Condition {
        public VersionIs {
            if (version < 0) {
                throw new IllegalArgumentException("expected version must be >= 0: " + version);
            }
        }
    }

    public record ValueIs(byte[] value) implements Condition {
        public ValueIs {
            Objects.requireNonNull(value, "expected value");
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ValueIs v && Arrays.equals(v.value, value);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(value);
        }

        @Override
        public String toString() {
            return "ValueIs[" + value.length + "B]";
        }
    }

    public KvCommand {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(key, "key");
        if (op == Op.PUT) {
            Objects.requireNonNull(value, "a put needs a value");
        } else if (value != null) {
            throw new IllegalArgumentException("a delete has no value");
        }
        if (condition == null) {
            condition = Condition.NONE;
        }
        if (clientId == null && sequence != 0) {
            throw new IllegalArgumentException("a sequence number needs a client id");
        }
    }

    public static KvCommand put(String key, byte[] value) {
        return new KvCommand(Op.PUT, key, value, Condition.NONE, null, 0);
    }

    public static KvCommand put(String key, byte[] value, Condition condition) {
        return new KvCommand(Op.PUT, key, value, condition, null, 0);
    }

    public static KvCommand delete(String key) {
        return new KvCommand(Op.DELETE, key, null, Condition.NONE, null, 0);
    }

    public static KvCommand delete(String key, Condition condition) {
        return new KvCommand(Op.DELETE, key, null, condition, null, 0);
    }

    /** This command tagged with a client id and request sequence number. */
    public KvCommand withClient(String clientId, long sequence) {
        return new KvCommand(op, key, value, condition, Objects.requireNonNull(clientId, "clientId"), sequence);
    }

    /**
     * The binary form. {@link IllegalArgumentException} if the key or client id is not valid Unicode (an unpaired
     * surrogate), since it could not be stored exactly.
     */
    public byte[] encode() {
        int size = 16 + key.length() * 3 + (value == null ? 0 : value.length)
                + (condition instanceof ValueIs v ? v.value().length + 5 : 10)
                + (clientId == null ? 0 : clientId.length() * 3 + 15);
        BinaryWriter w = new BinaryWriter(size);
        w.writeByte(FORMAT_VERSION);
        w.writeByte(op.code);
        w.writeByte(clientId != null ? 1 : 0);
        w.writeString(key);
        if (op == Op.PUT) {
            w.writeBytes(value);
        }
        if (condition instanceof VersionIs v) {
            w.writeByte(1);
            w.writeVarLong(v.version());
        } else if (condition instanceof ValueIs v) {
            w.writeByte(2);
            w.writeBytes(v.value());
        } else {
            w.writeByte(0);
        }
        if (clientId != null) {
            w.writeString(clientId);
            w.writeVarLong(sequence);
        }
        return w.toByteArray();
    }

    /** Parses {@link #encode()}'s output; {@link IllegalArgumentException} saying what is wrong for anything else. */
    public static KvCommand decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            throw new IllegalArgumentException("invalid KV command: empty");
        }
        try {
            BinaryReader r = new BinaryReader(bytes);
            int version = r.readByte("format version");
            if (version != FORMAT_VERSION) {
                throw new IllegalArgumentException("unsupported format version " + version);
            }
            int opCode = r.readByte("operation");
            Op op = switch (opCode) {
                case 1 -> Op.PUT;
                case 2 -> Op.DELETE;
                default -> throw new IllegalArgumentException("unknown operation " + opCode);
            };
            int flags = r.readByte("flags");
            if ((flags & ~1) != 0) {
                throw new IllegalArgumentException("unknown flags " + flags);
            }
            String key = r.readString("key");
            byte[] value = op == Op.PUT ? r.readBytes("value") : null;
            int condCode = r.readByte("condition");
            Condition condition = switch (condCode) {
                case 0 -> Condition.NONE;
                case 1 -> new VersionIs(r.readVarLong("expected version", 0, Long.MAX_VALUE));
                case 2 -> new ValueIs(r.readBytes("expected value"));
                default -> throw new IllegalArgumentException("unknown condition " + condCode);
            };
            String clientId = null;
            long sequence = 0;
            if ((flags & 1) != 0) {
                clientId = r.readString("client id");
                sequence = r.readVarLong("sequence");
            }
            r.expectEnd("the command");
            return new KvCommand(op, key, value, condition, clientId, sequence);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid KV command (" + bytes.length + " bytes): " + e.getMessage(), e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KvCommand c && c.op == op && c.key.equals(key) && Arrays.equals(c.value, value)
                && c.condition.equals(condition) && Objects.equals(c.clientId, clientId) && c.sequence == sequence;
    }

    @Override
    public int hashCode() {
        return Objects.hash(op, key, condition, clientId, sequence) * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return "KvCommand{" + op + " " + key + (value == null ? "" : " " + value.length + "B")
                + (condition instanceof NoCondition ? "" : " if " + condition)
                + (clientId == null ? "" : " from " + clientId + "#" + sequence) + "}";
    }
}
