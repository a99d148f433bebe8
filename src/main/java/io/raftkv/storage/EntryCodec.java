package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;

import java.util.List;
import java.util.zip.CRC32C;

/**
 * The binary format of a run of consecutive log entries (one record of the on-disk log). Layout:
 * <pre>
 *   byte     format version (1)
 *   int32    CRC-32C of every byte after this field
 *   varint   entry count (at least 1)
 *   per entry: varint term, varint index, byte type code ({@link EntryType#code}), varint data length, data
 * </pre>
 * Decoding verifies the version, checksum, type codes, that indexes are consecutive, and that nothing trails.
 */
public final class EntryCodec {

    public static final int FORMAT_VERSION = 1;

    private EntryCodec() {
    }

    /** Encodes {@code entries.subList(from, to)}, which must be consecutive. */
    public static byte[] encode(List<Entry> entries, int from, int to) {
        if (from < 0 || to > entries.size() || from >= to) {
            throw new IllegalArgumentException("nothing to encode: [" + from + "," + to + ") of " + entries.size());
        }
        long bytes = 16;
        for (int i = from; i < to; i++) {
            bytes += entries.get(i).data().length + 24L;
        }
        BinaryWriter w = new BinaryWriter((int) Math.min(Integer.MAX_VALUE - 16, bytes));
        w.writeByte(FORMAT_VERSION);
        w.writeInt(0); // checksum placeholder
        w.writeVarLong(to - from);
        long expected = entries.get(from).index();
        for (int i = from; i < to; i++) {
            Entry e = entries.get(i);
            if (e.index() != expected) {
                throw new IllegalArgumentException("entries are not consecutive: " + e.index() + " after " + (expected - 1));
            }
            expected++;
            w.writeVarLong(e.term());
            w.writeVarLong(e.index());
            w.writeByte(e.type().code);
            w.writeBytes(e.data());
        }
        CRC32C crc = new CRC32C();
        crc.update(w.buffer(), 5, w.size() - 5);
        w.putInt(1, (int) crc.getValue());
        return w.toByteArray();
    }

    public static byte[] encode(List<Entry> entries) {
        return encode(entries, 0, entries.size());
    }

    /** Decodes a record; {@link IllegalArgumentException} describing the problem if it is not a valid one. */
    public static Entry[] decode(byte[] record) {
        BinaryReader r = new BinaryReader(record);
        int version = r.readByte("format version");
        if (version != FORMAT_VERSION) {
            throw new IllegalArgumentException("unsupported entry record format version " + version);
        }
        int stored = r.readInt("checksum");
        CRC32C crc = new CRC32C();
        crc.update(record, 5, record.length - 5);
        if ((int) crc.getValue() != stored) {
            throw new IllegalArgumentException("entry record checksum mismatch");
        }
        // every entry takes at least 4 bytes, which bounds the count before allocating
        int count = (int) r.readVarLong("entry count", 1, Math.max(1, r.remaining() / 4));
        Entry[] out = new Entry[count];
        for (int i = 0; i < count; i++) {
            long term = r.readVarLong("term", 0, Long.MAX_VALUE);
            long index = r.readVarLong("index", 1, Long.MAX_VALUE);
            int code = r.readByte("entry type");
            EntryType type;
            try {
                type = EntryType.fromCode(code);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown entry type code " + code + " for entry " + index);
            }
            byte[] data = r.readBytes("entry data");
            if (i > 0 && index != out[i - 1].index() + 1) {
                throw new IllegalArgumentException("entry " + index + " follows entry " + out[i - 1].index());
            }
            out[i] = new Entry(term, index, type, data);
        }
        r.expectEnd("the last entry");
        return out;
    }
}
