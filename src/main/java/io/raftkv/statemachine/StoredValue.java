package io.raftkv.statemachine;

import io.raftkv.storage.BinaryReader;
import io.raftkv.storage.BinaryWriter;

import java.util.Arrays;

/**
 * A key's value as the {@code "kv"} collection of {@link KvStateMachine} stores it: a format byte, the version and the
 * create index (varints), then the value bytes. Also decides whether a write's {@link KvCommand.Condition} holds for
 * it.
 */
record StoredValue(long version, long createIndex, byte[] value) {

    private static final int FORMAT = 1;

    KvEntry toEntry(String key) {
        return new KvEntry(key, value, version, createIndex);
    }

    static byte[] encode(long version, long createIndex, byte[] value) {
        return new BinaryWriter(value.length + 24)
                .writeByte(FORMAT)
                .writeVarLong(version)
                .writeVarLong(createIndex)
                .writeRaw(value)
                .toByteArray();
    }

    /** Decodes a stored value; IllegalArgumentException if it is damaged. */
    static StoredValue decode(byte[] raw) {
        BinaryReader r = new BinaryReader(raw);
        long[] versions = readHeader(r);
        return new StoredValue(versions[0], versions[1], r.readRaw(r.remaining(), "value"));
    }

    /**
     * Reads a stored value's format, version and create index; the reader is then at the value bytes.
     * IllegalArgumentException if they are damaged.
     */
    static long[] readHeader(BinaryReader r) {
        int format = r.readByte("value format");
        if (format != FORMAT) {
            throw new IllegalArgumentException("unsupported value format " + format);
        }
        long version = r.readVarLong("version", 1, Long.MAX_VALUE);
        long createIndex = r.readVarLong("create index", 1, version);
        return new long[] {version, createIndex};
    }

    /** Whether {@code condition} (null: none) holds for the key's current value {@code cur} (null: no such key). */
    static boolean holds(KvCommand.Condition condition, StoredValue cur) {
        if (condition instanceof KvCommand.VersionIs v) {
            return (cur == null ? 0 : cur.version) == v.version();
        }
        if (condition instanceof KvCommand.ValueIs v) {
            return cur != null && Arrays.equals(cur.value, v.value());
        }
        return true;
    }
}
